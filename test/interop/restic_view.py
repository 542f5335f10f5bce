"""What restic 0.14 shows of a snapshot: it drops the members newer restic
versions add (program_version and summary, 0.17), which stash writes and
shows as 0.17 and later do. For comparing JSON output with Debian's restic."""

NEWER_MEMBERS = ("program_version", "summary")


def is_snapshot(d):
    return "tree" in d and "paths" in d and "time" in d


def as_restic_014_shows(doc):
    """doc with NEWER_MEMBERS left out of every snapshot object in it."""
    if isinstance(doc, list):
        return [as_restic_014_shows(x) for x in doc]
    if isinstance(doc, dict):
        return {k: as_restic_014_shows(v) for k, v in doc.items()
                if not (is_snapshot(doc) and k in NEWER_MEMBERS)}
    return doc
