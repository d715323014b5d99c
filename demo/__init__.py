"""The demo: the simulator and the real bot on this machine (python -m bot demo).

Outside the product package: the bot never imports the simulator."""
