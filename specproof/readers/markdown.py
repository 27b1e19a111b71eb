"""Reader for the two markdown source formats: sdk-api and windows-driver-docs-ddi.

Both share one skeleton (front matter, `## -description`, `## -parameters`
with `### -param name [in]`, `## -returns`, `## -remarks`, `## -see-also`);
they differ in their front-matter keys and in how often they use HTML, which
`mdblocks` absorbs. The format is told from the source path or the UID's
repository conventions, and recorded in the spec.
"""

from __future__ import annotations

import re

from .frontmatter import fm_str, split_front_matter
from .mdblocks import link_texts, to_blocks
from .parts import Block, NotAFunction, PageError, PageParts, ParamPart
from .sections import Section, split_sections
from .text import decode_page, digest_bytes, fold, iso_date

_REQ_KEYS = (
    "header", "include-header", "lib", "dll", "irql", "target-type", "target-min-winverclnt",
    "target-min-winversvr", "kmdf-ver", "umdf-ver", "ddi-compliance",
)
_NON_FUNCTION_UIDS = {
    "NS": "a structure", "NE": "an enumeration", "NC": "a callback", "NN": "an interface",
    "NL": "an index", "NI": "an IOCTL", "NA": "a macro-less topic", "NT": "a typedef",
}
_FUNCTION_TOPICS = {"function", "method", "macro", "apiref"}
_PARAM_HEAD = re.compile(r"^(\S+?)(?:\s*(\[.*\]))?\s*$")
_TYPE_LINE = re.compile(r"^Type:\s*(.+)$")
_OVERLOAD = re.compile(r"\(.*\)$")
_TITLE_KIND = re.compile(r"\b(structure|enumeration|enum|callback|interface|class|union|IOCTL|overview)\b", re.I)


def _kind_of(front: dict, uid: str | None) -> str | None:
    """Why the page is not a function page, or None when it is one."""
    if uid and ":" in uid:
        prefix = uid.split(":", 1)[0].upper()
        if prefix == "NF":
            return None
        if prefix in _NON_FUNCTION_UIDS:
            return f"{_NON_FUNCTION_UIDS[prefix]} page (UID {uid})"
        return f"not a function page (UID {uid})"
    construct = (fm_str(front, "req.construct-type") or fm_str(front, "ms.topic") or "").lower()
    if construct in _FUNCTION_TOPICS:
        return None
    title = fm_str(front, "title") or ""
    if "function" in title.lower() and not _TITLE_KIND.search(title):
        return None
    return "not a function page (no NF: UID, construct type or function title)"


_DRIVER_ROOTS = frozenset({
    "netvista", "kernel", "debugger", "audio", "ifsk", "display", "stream", "print", "wdf", "storage", "hid",
    "usbref", "bltooth", "sensors", "image", "pos", "battery", "biometric", "gnss", "devtest", "powermeter",
    "serports", "sd", "smartcrd", "spb", "gpio", "nfc", "wlan", "mobilebroadband", "acpi", "pci", "ieee",
    "wpd", "ports", "buses", "network", "netcx", "install", "kernel-mode", "sideband", "video",
})


def _format_of(file: str, front: dict, body: str) -> str:
    """sdk-api or wdk-ddi: by the path when it names the repository, else by the page's own marks.

    The two repositories share one front-matter template, so the marks are
    the driver docs' technology roots and their links into the driver docs.
    """
    lowered = file.replace("\\", "/").lower()
    if "wdk-ddi" in lowered or "driver-docs" in lowered:
        return "wdk-ddi"
    if "sdk-api" in lowered:
        return "sdk-api"
    root = (fm_str(front, "tech.root") or "").lower()
    if root in _DRIVER_ROOTS or "/windows-hardware/drivers/" in body:
        return "wdk-ddi"
    return "sdk-api"


def _api_name(uid: str | None, front: dict) -> str:
    """The documented name.

    The UID's tail names the export (`CreateFileW`, where `api_name` lists the
    neutral `CreateFile` first); the docs add `~r1` to a name they repeat and
    write members as `Class.Method` or `Class.operator-assign`, for which the
    page's own `Class::Method` spelling in `api_name` is the documented name.
    """
    if uid and "." in uid:
        tail = uid.split(":", 1)[-1].split(".", 1)[1]
        name = _OVERLOAD.sub("", tail.split("~", 1)[0])
        if "." not in name:
            return name
        members = [n for n in _names(front.get("api_name")) if "::" in n]
        cls = name.split(".", 1)[0]
        return next((n for n in members if n.split("::", 1)[0] == cls), members[0] if members else
                    name.replace(".", "::"))
    name = fm_str(front, "api_name") or (fm_str(front, "title") or "").split(" ")[0]
    if not name:
        raise PageError("no function name: the front matter has no UID, api_name or title")
    return name


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value.strip()]
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def _header_of(uid: str | None, front: dict) -> str | None:
    header = fm_str(front, "req.header")
    if header:
        return header.split()[0].strip(";,")
    location = fm_str(front, "api_location")
    if location and location.lower().endswith(".h"):
        return location
    if uid and ":" in uid and "." in uid:
        return uid.split(":", 1)[1].split(".", 1)[0] + ".h"
    return None


def _param_part(section: Section) -> ParamPart:
    """A parameter from its `-param name [annotation]` heading.

    A heading without a name (C++ operator pages have them) still gives the
    parameter, its name left empty for the builder to take from the
    prototype and the problem noted, instead of failing the page whole.
    """
    match = _PARAM_HEAD.match(section.arg) if section.arg else None
    if not match:
        return ParamPart("", None, to_blocks(section.text),
                         problem=f"line {section.line}: a -param heading without a parameter name")
    return ParamPart(match.group(1), match.group(2), to_blocks(section.text))


def _see_also(sections: list[Section]) -> list[str]:
    """Link texts (or plain lines) of the see-also sections, deduplicated in order."""
    seen: dict[str, None] = {}
    for section in sections:
        text = section.text if not section.arg else section.arg + "\n" + section.text
        for link in link_texts(text):
            seen.setdefault(link.strip("*_ "), None)
    return [s for s in seen if s]


def read_markdown(raw: bytes, file: str, text: str | None = None) -> PageParts:
    """Read one sdk-api or wdk-ddi page into PageParts (`text`: the page already decoded, if it was)."""
    text = decode_page(raw) if text is None else text
    front, body, _ = split_front_matter(text)
    if not front:
        raise PageError("no YAML front matter: a markdown source page starts with '---'")
    uid = fm_str(front, "UID") or fm_str(front, "uid")
    reason = _kind_of(front, uid)
    if reason:
        raise NotAFunction(reason)
    parts = PageParts(
        format=_format_of(file, front, body),  # type: ignore[arg-type]
        file=file,
        digest=digest_bytes(raw),
        api=_api_name(uid, front),
        header=_header_of(uid, front),
        uid=uid,
        date=iso_date(fm_str(front, "ms.date")),
        summary=fm_str(front, "description"),
    )
    for key in _REQ_KEYS:
        value = fm_str(front, f"req.{key}")
        if value:
            parts.req[key] = value
    _, sections = split_sections(body)
    see_also: list[Section] = []
    for section in sections:
        name = section.name
        if name == "description":
            parts.description.extend(to_blocks(section.text))
        elif name == "param":
            parts.params.append(_param_part(section))
        elif name == "subfield":
            owner = section.arg.split(".", 1)[0]
            target = next((p for p in parts.params if p.name == owner), parts.params[-1] if parts.params else None)
            if target is not None:
                target.blocks.append(Block("heading", section.arg))
                target.blocks.extend(to_blocks(section.text))
        elif name == "returns":
            parts.returns.extend(_returns_blocks(parts, section.text))
        elif name == "remarks":
            parts.remarks.extend(to_blocks(section.text))
        elif name == "see-also":
            see_also.append(section)
        elif name in ("syntax", "prototype"):
            code = next((b.text for b in to_blocks(section.text) if b.kind == "code"), None)
            if code and parts.prototype is None:
                parts.prototype = code
    parts.see_also = _see_also(see_also)
    return parts


def _returns_blocks(parts: PageParts, text: str) -> list[Block]:
    """The returns section's blocks; a leading `Type: DWORD` line gives the return type."""
    blocks = to_blocks(text)
    kept = []
    for block in blocks:
        typed = _TYPE_LINE.match(block.text) if block.kind == "para" else None
        if typed and parts.return_type is None:
            parts.return_type = fold(typed.group(1))
            continue
        kept.append(block)
    return kept
