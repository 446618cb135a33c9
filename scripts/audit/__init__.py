"""Audit report of one stack: what changed, when, by whom, and every model release with its evidence.

    python -m scripts.audit --stack prod [--cwd DIR] [--out DIR]
    python -m scripts.audit --stack prod --history history.json --export export.json [--out DIR]

Reads `pulumi stack history --json --show-secrets=false` and `pulumi stack export` (from the CLI,
or from files) and writes audit-<stack>.md and audit-<stack>.html. Secret values never reach a
report: secret config entries and secret-signed state values are shown as [secret], and the
dynamic providers' pickled `__provider` is left out.
"""
