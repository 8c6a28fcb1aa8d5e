"""The name a source reference is shown by: never its query string or its user-info.

A reference is written once in the configuration (or on the command line) and then named in
every message, finding location, report, artifact and ledger record that comes from it. A signed
URL carries its signature in the query string (``?X-Amz-Signature=...&token=...``) and a URL may
carry credentials before its host, so the reference itself is never the name: :func:`source_name`
is, and every loader names its input with it.
"""

from __future__ import annotations

import re

__all__ = ["REDACTED", "redact_refs", "source_name"]

#: What stands in for a query string that was left out.
REDACTED = "<redacted>"
# postgresql:// references name the table to read and where the server is in the query: no
# secret, and what a reader needs to tell which database a message is about. Every other
# parameter (sslpassword, passfile, options, ...) is left out.
_PG_KEPT = ("table", "host", "hostaddr", "port", "dbname", "user", "sslmode")
_KEPT_PARAMS = {"postgresql": _PG_KEPT, "postgres": _PG_KEPT}


def source_name(ref: str) -> str:
    """``scheme://host[:port]/path``, with ``?<redacted>`` when the reference had a query.

    A plain path is its own name. A fragment and any user-info are dropped; a reference too
    malformed to split is named by its scheme alone. Idempotent: the name of a name is itself.
    """
    scheme, sep, _ = ref.partition("://")
    if not sep or not scheme or not scheme.replace("+", "").replace("-", "").replace(
            ".", "").isalnum():
        return ref
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(ref)
        host = parts.netloc.rpartition("@")[2]
        path = parts.path
        query = parts.query
    except ValueError:  # e.g. an unbalanced '[' in the host
        return f"{scheme}://{REDACTED}"
    kept = _kept_params(scheme.lower(), query)
    hidden = bool(query) and len(kept) != query.count("&") + 1
    tail = "&".join([*kept, *([REDACTED] if hidden else [])])
    return f"{scheme}://{host}{path}" + (f"?{tail}" if tail else "")


def _kept_params(scheme: str, query: str) -> list[str]:
    names = _KEPT_PARAMS.get(scheme, ())
    return [p for p in query.split("&") if p and p.partition("=")[0] in names]


def redact_refs(text: str) -> str:
    """``text`` with every URL in it replaced by its :func:`source_name` (for free text that
    may quote a reference, such as an exception message from a plugin)."""
    if "://" not in text:
        return text

    def name(match: re.Match[str]) -> str:
        # Punctuation that ends a sentence or introduces a message is not part of the URL.
        url = match.group(0)
        body = url.rstrip(".,:;!?")
        return source_name(body) + url[len(body):]

    return _URL.sub(name, text)


# Up to white space, a quote or a bracket: how a URL ends inside a sentence or a repr.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://(?:<redacted>|[^\s'\"<>`()\[\]{}])+")
