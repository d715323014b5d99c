"""Load and speed benchmarks for the bot (issue 6); not tests. Run ``python -m bench``.

The load runs put the simulator and the simulated people in this process and the bot in a
subprocess, so the bot's CPU time and peak RSS are its own. See docs/benchmarks.md.
"""
