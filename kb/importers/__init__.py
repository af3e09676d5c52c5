"""Importing the scattered content: files of articles in the formats people keep them in, turned into the items
kb.articles.import_articles takes. One module per format (FORMATS in kb/importers/run.py picks one by the file's
extension), each reading one file into Items; kb/importers/run.py walks a folder, imports in batches and reports
what it did, the errors with their file and row, and the near-duplicates (kb/duplicates.py) it found.
"""
