"""``lpm-curate synth``: labelled synthetic conversation videos with per-frame ground truth."""

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    from curation.synth import add_synth_arguments, run_synth

    p = sub.add_parser("synth", help="generate labelled conversation videos (no network) with ground truth")
    add_synth_arguments(p)
    p.set_defaults(handler=run_synth)
