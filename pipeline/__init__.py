"""outreach: cited harm-reduction fact blocks, translated, reviewed and printed.

Stages, one module each:
  content / hotlines  load and validate source/ (fact blocks, strings, editions, registry)
  catalog             read and write translations/<lang>.po through polib
  translate           machine drafts with Argos Translate (the only stage importing it)
  models              install, list and remove Argos models
  backtranslate       machine back-translations into English for reviewers (through translate)
  checks / validate   registered quality checks; `outreach check` over the whole project
  similarity          chrF of a back-translation against the English
  ledger / approval   the append-only approval ledger and the state of every string
  review / xliff      the reviewer's terminal session; XLIFF 1.2 for CAT tools
  render              Jinja2 + WeasyPrint print documents
  build               finals through the gate, proofs, in parallel
  bundle              the release bundle with its manifest
The command line lives in cli.py and only parses, calls one stage and reports.
"""

__version__ = "0.1.0"
