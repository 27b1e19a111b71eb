"""Render PageParts as learn-text, the way a browser copy of a learn.microsoft.com page reads.

Tests use this to make learn-text pages from the markdown corpus, so the
same function can be read from both formats and compared. Each option
reproduces one way a real copy loses structure: section headings dropped,
parameter lines dropped, the prototype's `);` dropped, tables flattened to
one line per row, the requirements table as `Key Value` lines, CRLF.
`chrome` adds what a whole-page copy carries around the article: the site's
header, breadcrumbs and action words before the title, the metadata and
"In this article" list after it, the feedback footer at the end, in the
site language the reader browses in (the article itself stays English).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from specproof.readers.parts import Block, PageParts

SECTION_HEADINGS = ("Syntax", "Parameters", "Return value", "Remarks", "Requirements", "See also")

REQ_LABELS = {
    "target-min-winverclnt": "Minimum supported client",
    "target-min-winversvr": "Minimum supported server",
    "target-platform": "Target Platform",
    "target-type": "Target Platform",
    "header": "Header",
    "lib": "Library",
    "dll": "DLL",
    "irql": "IRQL",
    "ddi-compliance": "DDI compliance rules",
    "kmdf-ver": "Minimum KMDF version",
    "umdf-ver": "Minimum UMDF version",
}
DEFAULT_REQ_ORDER = (
    "target-min-winverclnt", "target-min-winversvr", "target-platform", "target-type", "header", "lib", "dll",
    "irql", "ddi-compliance", "kmdf-ver", "umdf-ver",
)
_NOTE_WORDS = ("Note", "Important", "Warning", "Caution", "Tip")
_VALUE = re.compile(r"^(?:0[xX][0-9A-Fa-f]+|-?\d+)[uUlL]*(?:\s*[-\u2010-\u2015]\s*(?:0[xX][0-9A-Fa-f]+|\d+)[uUlL]*)?$")
_OVERLOAD = re.compile(r"\(.*$")

# The site's own text around an article, per site language, as a browser copy of a whole
# learn.microsoft.com page gives it ({topic}: the breadcrumb's area; {n}: a count).
CHROME = {
    "en": {
        "top": ["Skip to main content", "", "This browser is no longer supported.", "",
                "Upgrade to Microsoft Edge to take advantage of the latest features, security updates, and "
                "technical support.", "",
                "Download Microsoft Edge More info about Internet Explorer and Microsoft Edge",
                "Table of contents Exit focus mode", "", "Read in English Save", "Add to Collections", "Add to plan",
                "Edit", "", "", "Share via", "", "Facebook x.com LinkedIn Email", "Print", "Table of contents"],
        "crumbs": ["Learn", "Windows", "Apps", "Win32", "API", "Security and Identity"],
        "meta": ["Article", "{date}", "{n} contributors", "Feedback"],
        "in_article": "In this article", "more": "Show {n} more",
        "footer": ["Feedback", "Was this page helpful?", "Yes No", "Provide product feedback", "",
                   "Additional resources", "Training", "Documentation"],
        "date": "{m:02d}/{d:02d}/{y}",
    },
    "de": {
        "top": ["Zum Hauptinhalt wechseln", "", "Dieser Browser wird nicht mehr unterstützt.", "",
                "Führen Sie ein Upgrade auf Microsoft Edge durch, um die neuesten Features, Sicherheitsupdates und "
                "den technischen Support zu nutzen.", "",
                "Microsoft Edge herunterladen Weitere Informationen zu Internet Explorer und Microsoft Edge",
                "Inhaltsverzeichnis Fokusmodus beenden", "", "Auf Englisch lesen Speichern",
                "Zu Sammlungen hinzufügen", "Zu Plan hinzufügen", "Bearbeiten", "", "", "Freigeben über", "",
                "Facebook x.com LinkedIn E-Mail", "Drucken", "Inhaltsverzeichnis"],
        "crumbs": ["Learn", "Windows", "Apps", "Win32", "API", "Sicherheit und Identität"],
        "meta": ["Artikel", "{date}", "{n} Mitwirkende", "Feedback"],
        "in_article": "In diesem Artikel", "more": "{n} weitere anzeigen",
        "footer": ["Feedback", "War diese Seite hilfreich?", "Ja Nein", "Produktfeedback bereitstellen", "",
                   "Zusätzliche Ressourcen", "Training", "Dokumentation"],
        "date": "{d:02d}.{m:02d}.{y}",
    },
    "fr": {
        "top": ["Passer au contenu principal", "", "Ce navigateur n’est plus pris en charge.", "",
                "Effectuez une mise à niveau vers Microsoft Edge pour tirer parti des dernières fonctionnalités, "
                "des mises à jour de sécurité et du support technique.", "",
                "Télécharger Microsoft Edge Plus d’informations sur Internet Explorer et Microsoft Edge",
                "Table des matières Quitter le mode focus", "", "Lire en anglais Enregistrer",
                "Ajouter aux collections", "Ajouter au plan", "Modifier", "", "", "Partager via", "",
                "Facebook x.com LinkedIn E-mail", "Imprimer", "Table des matières"],
        "crumbs": ["Learn", "Windows", "Applications", "Win32", "API", "Sécurité et identité"],
        "meta": ["Article", "{date}", "{n} contributeurs", "Commentaires"],
        "in_article": "Dans cet article", "more": "Afficher {n} de plus",
        "footer": ["Commentaires", "Cette page a-t-elle été utile\u00a0?", "Oui Non",
                   "Indiquer des commentaires sur le produit", "", "Ressources supplémentaires", "Formation",
                   "Documentation"],
        "date": "{d:02d}/{m:02d}/{y}",
    },
    "es": {
        "top": ["Saltar al contenido principal", "", "Este explorador ya no se admite.", "",
                "Actualice a Microsoft Edge para aprovechar las características, las actualizaciones de seguridad y "
                "el soporte técnico más recientes.", "",
                "Descargar Microsoft Edge Más información sobre Internet Explorer y Microsoft Edge",
                "Tabla de contenido Salir del modo de enfoque", "", "Leer en inglés Guardar",
                "Agregar a colecciones", "Agregar al plan", "Editar", "", "", "Compartir a través de", "",
                "Facebook x.com LinkedIn Correo electrónico", "Imprimir", "Tabla de contenido"],
        "crumbs": ["Learn", "Windows", "Aplicaciones", "Win32", "API", "Seguridad e identidad"],
        "meta": ["Artículo", "{date}", "{n} colaboradores", "Comentarios"],
        "in_article": "En este artículo", "more": "Mostrar {n} más",
        "footer": ["Comentarios", "¿Le resultó útil esta página?", "Sí No",
                   "Proporcionar comentarios sobre el producto", "", "Recursos adicionales", "Cursos",
                   "Documentación"],
        "date": "{d:02d}/{m:02d}/{y}",
    },
}
BREADCRUMB_STYLES = ("slash", "lines", "spaces")


def synthesize_prototype(parts: PageParts, param_type: str = "PVOID", annotate: bool = False) -> str:
    """A declaration for pages that show none (sdk-api sources have no syntax block).

    The types are placeholders; only the names and their order matter to the
    reader, which takes parameter names from the prototype when a copy has
    lost the parameter lines.
    """
    returns = parts.return_type or "HRESULT"
    name = _OVERLOAD.sub("", parts.api).rsplit("::", 1)[-1].rsplit(".", 1)[-1]
    if not parts.params:
        return f"{returns} {name}(void);"
    pieces = []
    for param in parts.params:
        if param.name == "...":
            pieces.append("  ...")
            continue
        prefix = f"{param.annotation} " if annotate and param.annotation else ""
        pieces.append(f"  {prefix}{param_type} {param.name}")
    return f"{returns} {name}(\n" + ",\n".join(pieces) + "\n);"


def render_learn_text(
    parts: PageParts,
    prototype: str | None = None,
    *,
    headings: bool | Iterable[str] = True,
    param_names: bool = True,
    param_style: str = "pre",
    close_prototype: bool = True,
    value_on_next_line: bool = True,
    cell_sep: str = " ",
    table_header: str = "tab",
    req_order: Iterable[str] | None = None,
    req_sep: str = " ",
    kind: str = "function",
    date: str | None = None,
    crlf: bool = False,
    chrome: str | None = None,
    chrome_date: str = "2024-02-22",
    breadcrumbs: str = "slash",
    toc_shown: int = 4,
    footer: bool = True,
) -> str:
    """The learn-text copy of `parts`.

    - `prototype`: the syntax block; defaults to `parts.prototype`, then to
      `synthesize_prototype(parts)` when the page has parameters.
    - `headings`: True keeps all section headings, False drops them all, a
      collection keeps only those named (e.g. {"Return value", "See also"}).
    - `param_names`: keep the `[in] name` lines; `param_style` "pre" writes
      `[in] name`, "post" `name [in]`, "bare" just `name`.
    - `close_prototype`: keep the closing `);`.
    - tables are always flattened: `NAME<cell_sep>Description`; a name cell
      "NAME\\nVALUE" becomes a `NAME` line and a `VALUE<cell_sep>Description`
      line (`value_on_next_line`), or `NAME VALUE<cell_sep>Description`.
      `table_header`: "tab" (cells tab-separated), "space", or "first" (the
      first cell only, as in the seed's lone `Return code` line).
    - requirements as `Key<req_sep>Value` lines in `req_order`.
    - `chrome`: a site language of `CHROME` ("en", "de", "fr", "es") adds
      the whole-page copy's chrome: the site header and action words,
      breadcrumbs (`breadcrumbs`: "slash" `Learn / Windows / ... / Sspi.h`,
      "lines" one per line, "spaces" on one line) before the title; the
      metadata (`chrome_date`, ISO, written the language's way) and the
      "In this article" list of the page's headings (the first `toc_shown`,
      then "Show N more") after it; the feedback footer when `footer`.
    """
    keep = _heading_filter(headings)
    title = f"{parts.api.replace('.', '::')} {kind} ({parts.header or 'unknown.h'})"
    site = CHROME[chrome] if chrome else None
    out: list[str] = []
    if site:
        out += site["top"] + _breadcrumbs(site["crumbs"] + [(parts.header or "unknown.h").capitalize()], breadcrumbs)
    out += [title, ""]
    if site:
        y, m, d = (int(x) for x in chrome_date.split("-"))
        when = site["date"].format(y=y, m=m, d=d)
        out += [line.format(date=when, n=3) for line in site["meta"]]
        toc = _page_headings(parts, prototype)
        out.append(site["in_article"])
        out += toc[:toc_shown]
        if len(toc) > toc_shown:
            out.append(site["more"].format(n=len(toc) - toc_shown))
        out.append("")
    if date:
        out += [f"Last updated {date}", ""]
    description = list(parts.description)
    if parts.summary and not any(b.kind == "para" and b.text == parts.summary for b in description):
        description.insert(0, Block("para", parts.summary))
    _blocks(out, description, value_on_next_line, cell_sep, table_header)

    if prototype is None:
        prototype = parts.prototype or (synthesize_prototype(parts) if parts.params else None)
    if prototype:
        _heading(out, "Syntax", keep)
        text = prototype.rstrip()
        if not close_prototype:
            text = _drop_close(text)
        out += text.split("\n") + ["", ""]

    if parts.params:
        _heading(out, "Parameters", keep)
        for param in parts.params:
            if param_names:
                out += [_param_line(param.name, param.annotation, param_style), ""]
            _blocks(out, param.blocks, value_on_next_line, cell_sep, table_header)
            out.append("")

    if parts.returns or parts.return_type:
        _heading(out, "Return value", keep)
        if parts.return_type:
            out += [f"Type: {parts.return_type}", ""]
        _blocks(out, parts.returns, value_on_next_line, cell_sep, table_header)

    if parts.remarks:
        _heading(out, "Remarks", keep)
        _blocks(out, parts.remarks, value_on_next_line, cell_sep, table_header)

    req_lines = _requirements(parts.req, req_order, req_sep)
    if req_lines:
        _heading(out, "Requirements", keep)
        out += req_lines + [""]

    if parts.see_also:
        _heading(out, "See also", keep)
        out += list(parts.see_also)
    if site and footer:
        out += [""] + site["footer"]
    text = "\n".join(out).rstrip("\n") + "\n"
    return text.replace("\n", "\r\n") if crlf else text


def _breadcrumbs(crumbs: list[str], style: str) -> list[str]:
    if style == "slash":
        return [" / ".join(crumbs)]
    if style == "lines":
        return list(crumbs)
    if style == "spaces":
        return ["  ".join(crumbs) + " "]
    raise ValueError(f"breadcrumbs: one of {BREADCRUMB_STYLES}, not {style!r}")


def _page_headings(parts: PageParts, prototype: str | None) -> list[str]:
    """The headings the page has (whether the copy keeps them or not): the "In this article" list."""
    has = {
        "Syntax": bool(prototype or parts.prototype or parts.params),
        "Parameters": bool(parts.params),
        "Return value": bool(parts.returns or parts.return_type),
        "Remarks": bool(parts.remarks),
        "Requirements": bool(_requirements(parts.req, None, " ")),
        "See also": bool(parts.see_also),
    }
    return [name for name in SECTION_HEADINGS if has[name]]


def _heading_filter(headings: bool | Iterable[str]) -> frozenset[str]:
    if headings is True:
        return frozenset(SECTION_HEADINGS)
    if headings is False:
        return frozenset()
    return frozenset(headings)


def _heading(out: list[str], name: str, keep: frozenset[str]) -> None:
    if name in keep:
        out += [name, ""]


def _drop_close(prototype: str) -> str:
    """The declaration without its final `);` (a lone `);` line goes entirely)."""
    lines = prototype.split("\n")
    last = lines[-1].rstrip()
    if last.strip() in (");", ")"):
        return "\n".join(lines[:-1])
    for closer in (");", ")"):
        if last.endswith(closer):
            lines[-1] = last[: -len(closer)]
            break
    return "\n".join(lines)


def _param_line(name: str, annotation: str | None, style: str) -> str:
    if style == "bare" or not annotation:
        return name
    return f"{annotation} {name}" if style == "pre" else f"{name} {annotation}"


def _blocks(out: list[str], blocks: list[Block], next_line: bool, sep: str, header_style: str) -> None:
    for block in blocks:
        if block.kind == "table":
            out += _table(block, next_line, sep, header_style)
        elif block.kind == "code":
            out += ["C++", "Copy"] + block.text.rstrip("\n").split("\n")
        elif block.kind == "item":
            out.append(f"- {block.text}")
        elif block.kind == "note":
            text = block.text
            out += [text] if text.split(" ", 1)[0].rstrip(":") in _NOTE_WORDS else ["Note", text]
        else:
            out.append(block.text)
        out.append("")


def _table(block: Block, next_line: bool, sep: str, header_style: str) -> list[str]:
    rows = block.rows
    lines: list[str] = []
    if block.header and rows:
        header, rows = rows[0], rows[1:]
        if header_style == "tab":
            lines.append("\t".join(header))
        elif header_style == "space":
            lines.append(" ".join(header))
        else:
            lines.append(header[0])
    for row in rows:
        if not row:
            continue
        name, *rest = row[0].split("\n")
        tail = sep.join(cell.split("\n")[0] for cell in row[1:] if cell)
        extra = [line for cell in row[1:] for line in cell.split("\n")[1:]]
        values = bool(rest) and all(_VALUE.match(line) for line in rest)
        if rest and (next_line or not values):
            # a browser puts each line of a cell on its own line; the description follows the last
            lines.append(name)
            lines += rest[:-1]
            lines.append(rest[-1] + (sep + tail if tail else ""))
        else:
            lead = " ".join([name] + rest)
            lines.append(lead + (sep + tail if tail else ""))
        lines += extra
    return lines


def _requirements(req: dict[str, str], order: Iterable[str] | None, sep: str) -> list[str]:
    lines = []
    seen_labels: set[str] = set()
    for key in order or DEFAULT_REQ_ORDER:
        value = req.get(key)
        label = REQ_LABELS.get(key)
        if not value or not label or label in seen_labels:
            continue
        seen_labels.add(label)
        if key == "header" and req.get("include-header"):
            value = f"{value} (include {req['include-header']})"
        lines.append(f"{label}{sep}{value}")
    return lines
