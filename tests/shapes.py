"""Pages of every shape a docs checkout holds that once broke a stage, one page each.

Used by the chain test (tests/test_e2e.py) and multiplied by benchmarks/e2e.
"""

from __future__ import annotations

from learntext_render import render_learn_text
from pagemaker import page
from specproof.readers.markdown import read_markdown

_SYNTAX = "\n\n## -syntax\n\n```cpp\n{proto}\n```\n"
_WAIT_RETURNS = """The NT_SUCCESS macro recognizes all of these status values as "success" values.

| Return code | Description |
|---|---|
| **STATUS_SUCCESS** | The wait was satisfied. |
| **STATUS_TIMEOUT** | A time-out occurred before the object was set to a signaled state. |
"""

# one page per shape: (file under the pages folder, page bytes)
WRITTEN = {
    # a header in a subfolder of the include folder (req.header: netx/subhdr.h)
    "subhdr/nf-subhdr-subfunction.md": page(api="SubFunction", header="subhdr", req_header="netx/subhdr.h"),
    # a name with a leading underscore, and a pointer parameter the null-pointer rule calls with NULL
    "testhdr/nf-testhdr-_testedit.md": page(
        api="_TestEdit", header="testhdr", lib="Test.lib", params="### -param PointerToItem [in]\n\nThe item.",
        returns="If the function succeeds, the return value is **S_OK**. Otherwise it returns **E_INVALIDARG**.",
        remarks="None." + _SYNTAX.format(proto="HRESULT _TestEdit(\n  [in] PVOID *PointerToItem\n);")),
    # a name the test's `api` object has as a member of its own
    "testhdr/nf-testhdr-alloc.md": page(
        api="alloc", header="testhdr", lib="Test.lib", params="### -param Block [in]\n\nThe block.",
        returns="If the function succeeds, the return value is **S_OK**. Otherwise it returns **E_INVALIDARG**.",
        remarks="None." + _SYNTAX.format(proto="HRESULT alloc(\n  [in] PVOID *Block\n);")),
    # one function documented in two headers, each page named with the docs' ~r1
    "hdra/nf-hdra-_twin~r1.md": page(api="_Twin", uid_tail="_Twin~r1", header="hdra"),
    "hdrb/nf-hdrb-_twin~r1.md": page(api="_Twin", uid_tail="_Twin~r1", header="hdrb", date="06/07/2022"),
    # a COM method: the documented name is ITestThing::DoThing
    "testhdr/nf-testhdr-itestthing-dothing.md": page(api="ITestThing::DoThing", uid_tail="ITestThing.DoThing",
                                                     header="testhdr"),
    # a C++ overload whose page names one parameter twice
    "testhdr/nf-testhdr-testbuf-copy(const_t_ulong).md": page(
        api="TestBuf::Copy", uid_tail="TestBuf.Copy(const_T,ULONG)", header="testhdr",
        params="### -param Elts\n\nThe count.\n\n### -param Elts [in]\n\nThe count again.",
        returns="This method does not return a value."),
    # a C++ operator whose -param heading has no name
    "testhdr/nf-testhdr-testbuf-operator-assign.md": page(
        api="TestBuf::operator=", uid_tail="TestBuf.operator-assign", header="testhdr",
        params="## -param\n\nA pointer to the data to assign.", returns="The object."),
    # a macro that tests codes, named in the returns section
    "testhdr/nf-testhdr-testwait.md": page(api="TestWait", header="testhdr", returns=_WAIT_RETURNS),
}


def _learn_text_copy(data: bytes, name: str, chrome: str) -> bytes:
    """A whole-page learn-text copy of a markdown page, with the site's chrome in `chrome`'s language."""
    return render_learn_text(read_markdown(data, name), chrome=chrome).encode("utf-8")


# whole-page copies that begin with the site's chrome before the title (German and English)
WRITTEN["copies/CopiedFunction.txt"] = _learn_text_copy(
    page(api="CopiedFunction", header="copyhdr", params="### -param hThing [in]\n\nA handle to the thing.",
         returns="If the function succeeds, the return value is **S_OK**. If the handle is not valid, it returns "
                 "**E_HANDLE**."), "CopiedFunction.md", "de")
WRITTEN["copies/ICopied-Close.txt"] = _learn_text_copy(
    page(api="ICopied::Close", uid_tail="ICopied.Close", header="copyhdr"), "ICopied-Close.md", "en")
