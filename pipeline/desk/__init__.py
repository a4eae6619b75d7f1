"""The review desk: `outreach serve`, a local web page for reviewing one language's strings.

Each string is shown beside the proof page it prints on, drawn live as the
reviewer types; approve, reject and edit go through the same stages as the
command line. `actions` is the desk's only door into the pipeline, `security`
its access rules, `preview` the warm renderer, `app` the pages, `server` the
process.
"""
