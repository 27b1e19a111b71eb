"""Makes the hand-written fixtures in conformance/fixtures/ available to every generated suite.

The `api` fixture itself, the options (--adapter, --impl, --results ...)
and the outcomes come from the specproof pytest plugin.
"""

from fixtures.files import *  # noqa: F401,F403
from fixtures.kernel import *  # noqa: F401,F403
from fixtures.kernel32 import *  # noqa: F401,F403
from fixtures.memory import *  # noqa: F401,F403
from fixtures.process import *  # noqa: F401,F403
from fixtures.registry import *  # noqa: F401,F403
from fixtures.sspi import *  # noqa: F401,F403
from fixtures.wfp import *  # noqa: F401,F403
