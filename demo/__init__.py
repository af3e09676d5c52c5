"""Demo data for a first look: a small helpdesk taxonomy, troubleshooting articles in KCS form
(English, German, Polish, Russian), the shipped response macros and a few mapping rules.
`flask --app app demo` loads it (demo.load); running it again changes nothing."""
