#!/usr/bin/python3
"""How evenly a gang's ranks share a window's work: padded token slots per rank, no training.

Usage (from the repository root):

    /usr/bin/python3 tests/bench/rank_balance.py --max-seq-length 256 --micro 4 --accumulation 2

Every rank waits at the all-reduce for the slowest one, so the figure that matters is the
slowest rank's padded slots (micro-batch rows x its longest row, summed over its micro-batches).
Two ways to share a window (sorted longest first) between the ranks are compared:

- dealt (today's `DealWindow`, worker/distributed/rank_share.h): example e to rank e % world,
  each rank cutting its examples into micro-batches;
- greedy: the window cut into consecutive micro-batches (as one process cuts it), each, longest
  first, given to the least loaded rank that still has room (every rank gets `accumulation`).

The lengths are approximate: the UTF-8 bytes of the text plus 2 (a byte-level vocabulary with
its special tokens, as the scratch models use), cut at --max-seq-length. Windows are random
draws of the file's first --rows rows (--seed), as an epoch without length grouping forms them.
"""
import argparse
import csv
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_common as bc  # noqa: E402  (no torch import)


def padded(rows):
    return len(rows) * max(rows)


def dealt_costs(window, world, micro):
    costs = []
    for rank in range(world):
        mine = window[rank::world]
        costs.append(sum(padded(mine[k:k + micro]) for k in range(0, len(mine), micro)))
    return costs


def greedy_costs(window, world, micro, accumulation):
    loads, counts = [0] * world, [0] * world
    batches = sorted((padded(window[k:k + micro]) for k in range(0, len(window), micro)),
                     reverse=True)
    for cost in batches:
        rank = min((r for r in range(world) if counts[r] < accumulation), key=lambda r: loads[r])
        loads[rank] += cost
        counts[rank] += 1
    return loads


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(bc.SHARED_DATA, "ag_news",
                                                       "train_subset.csv"))
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--world", type=int, default=2)
    parser.add_argument("--micro", type=int, default=8, help="rows per micro-batch")
    parser.add_argument("--accumulation", type=int, default=1, help="micro-batches per rank")
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    bc.check_data(args.data)
    with open(args.data, newline="", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)][:args.rows]
    lengths = [min(args.max_seq_length, len(t.encode()) + 2) for t in texts]
    order = list(range(len(lengths)))
    random.Random(args.seed).shuffle(order)
    size = args.world * args.micro * args.accumulation
    slowest = {"dealt": 0, "greedy": 0}
    total = {"dealt": 0, "greedy": 0}
    for start in range(0, len(order) - size + 1, size):
        window = sorted((lengths[i] for i in order[start:start + size]), reverse=True)
        for name, costs in (("dealt", dealt_costs(window, args.world, args.micro)),
                            ("greedy", greedy_costs(window, args.world, args.micro,
                                                    args.accumulation))):
            slowest[name] += max(costs)
            total[name] += sum(costs)
    print("world %d x micro %d x accumulation %d, max_seq_length %d, %d windows of %s"
          % (args.world, args.micro, args.accumulation, args.max_seq_length,
             len(order) // size, os.path.basename(args.data)))
    for name in ("dealt", "greedy"):
        print("%-6s slowest rank %d padded slots (%.3fx dealt), all ranks %d"
              % (name, slowest[name], slowest[name] / slowest["dealt"], total[name]))


if __name__ == "__main__":
    main()
