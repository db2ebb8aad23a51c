"""What the driver asks of a pool's actors once the block's last video is back: the setup answers
still unread, each actor's summary parts written, and the counts each made since its last reply.

Every step waits at most ``FLUSH_S``: an actor that does not answer in time loses only a shortcut
(the decide task reads its videos' summaries one by one) or its last counts, never a video.
"""

from curation.execution.actor_pool_state import Pool
from curation.faults import fault_counts

FLUSH_S = 120.0  # the longest the driver waits for the actors' last summary parts at a block's end


def finish_block(pools: list[Pool]) -> None:
    read_late_setups(pools)
    ask_to_flush_summary_parts(pools)
    gather_fault_counts(pools)


def read_late_setups(pools: list[Pool]) -> None:
    """The setup answers that came in after the loop's last look at Ray: actors that ran no video
    (an actor takes one only once it is up) but may hold counts of their setup."""
    import ray

    for pool in pools:
        if not pool.starting:
            continue
        done, _ = ray.wait(list(pool.starting), num_returns=len(pool.starting), timeout=0)
        for ref in done:
            actor = pool.starting.pop(ref)
            try:
                node, node_id = ray.get(ref)
            except Exception:  # gone in its setup: nothing of it to ask for
                pool.drop(actor)
                continue
            pool.came_up(actor, node, node_id)


def ask_to_flush_summary_parts(pools: list[Pool]) -> None:
    """Every reply is in: each live actor writes the summaries it holds as parts. One that does
    not answer in time loses only a shortcut: the decide task reads those videos one by one."""
    import ray

    asked = [actor.flush_summary_parts.remote() for pool in pools for actor in pool.actors if actor in pool.up]
    if asked:
        ray.wait(asked, num_returns=len(asked), timeout=FLUSH_S)


def gather_fault_counts(pools: list[Pool]) -> None:
    """Each live actor's counts since its last video's reply (store retries while it wrote its
    summary parts), added to the driver's."""
    import ray

    asked = [actor.fault_counts.remote() for pool in pools for actor in pool.actors if actor in pool.up]
    if not asked:
        return
    # FLUSH_S, as the flush before it: on a loaded node a reply can take seconds, and one that
    # comes late takes that actor's counts out of the run's
    answered, _ = ray.wait(asked, num_returns=len(asked), timeout=FLUSH_S)
    for ref in answered:
        try:
            fault_counts.merge(ray.get(ref))
        except Exception:  # an actor lost at the very end takes its counts with it
            continue
