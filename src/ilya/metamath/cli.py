# pyright: strict
"""``ilya metamath ...``: verify a database, show a proof, database statistics (parsing and dispatch only)."""

from __future__ import annotations

from ilya.core.commands import Command
from ilya.metamath.config import ShowConfig, StatsConfig, VerifyConfig

COMMANDS = {
    "verify": Command(VerifyConfig, "ilya.metamath.commands:verify_command", kind="eval",
                      smoke=("hol.mm", "--json")),
    "show": Command(ShowConfig, "ilya.metamath.commands:show_command",
                    smoke=("th1", "--db", "demo0.mm", "--json")),
    "stats": Command(StatsConfig, "ilya.metamath.commands:stats_command", smoke=("--db", "hol.mm", "--json")),
}
DEMO = "ilya.metamath.demo:demo"
