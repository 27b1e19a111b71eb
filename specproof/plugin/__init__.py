"""The specproof pytest plugin (entry point `pytest11: specproof`); the hooks live in `hooks`."""

from .hooks import (api, pytest_addoption, pytest_collection_modifyitems, pytest_configure,  # noqa: F401
                    pytest_report_header, pytest_report_teststatus, pytest_runtest_logreport,
                    pytest_runtest_makereport, pytest_sessionfinish, pytest_sessionstart, pytest_terminal_summary,
                    pytest_xdist_setupnodes, specproof_adapter)
