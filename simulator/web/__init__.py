"""Three phones on one page: the simulator's browser front end and its /sim/ API."""

from simulator.web.qr import read_qr
from simulator.web.server import Phone, WebPhones, attach_web

__all__ = ["Phone", "WebPhones", "attach_web", "read_qr"]
