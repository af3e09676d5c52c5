"""The knowledge base: taxonomy nodes, admin mapping rules, articles with their versions."""
