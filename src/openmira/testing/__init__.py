"""Testing against OpenMira: a live server with factories (``run_server``), and the pytest plugin that
provides it as fixtures (``openmira_server``, ``openmira``). See docs/testing.md."""

from openmira.testing.factories import KeyPairInfo, MspInfo, OrgInfo, UserInfo
from openmira.testing.server import OpenMiraServer, run_server

__all__ = ["KeyPairInfo", "MspInfo", "OpenMiraServer", "OrgInfo", "UserInfo", "run_server"]
