"""Monte Carlo tree search over automap's actions (UCT), the search of the automap paper.

A node is a partitioning reached by a schedule of actions (``calculi.partir.automap.Space``); each
partitioning appears once in the tree. An episode

1. *selects*: from the unpartitioned program, while a node has no untried action, it goes to the
   child of highest upper confidence bound

       UCT(child) = W(child) / N(child) + c · R · √(ln N(node) / N(child))

   (``W`` the rewards backed up through the child, ``N`` its visits, ``R`` the best reward so far,
   so that ``c`` does not depend on the program's scale);
2. *expands* one untried action (one whose propagation reports a conflict, or reaches a
   partitioning already in the tree, is dropped);
3. *rolls out*: plays a random number (up to the depth left) of random actions from the new node;
4. *backs up* the episode's reward, the larger of the new node's and the rollout's end's, along the
   path.

The reward of a partitioning is its predicted speed-up over the unpartitioned program, t₀ / t, where
its peak fits in the memory limit, and 0 where it does not (the limit is a constraint, not a cost).
The answer is the fastest fitting partitioning scored in any episode. The budget is a number of
episodes, and a seed makes the search deterministic.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from calculi.partir.automap import Action, Found, Scored, Scorer, Space, key, step
from calculi.partir.propagation import Partitioning
from calculi.partir.simulator import CostModel


@dataclass(slots=True)
class Node:
    scored: Scored
    untried: list[Action]
    children: list[Node] = field(default_factory=list)
    visits: int = 0
    total: float = 0.0

    @property
    def depth(self) -> int:
        return len(self.scored.schedule)


class _Tree:
    def __init__(self, part: Partitioning, space: Space, scorer: Scorer, depth: int, rng: random.Random,
                 exploration: float) -> None:
        self.space, self.scorer, self.depth, self.rng, self.c = space, scorer, depth, rng, exploration
        self.seen = {key(part)}
        self.root = self._node(scorer((), part))
        self.t0 = self.root.scored.time
        self.best_reward = 0.0

    def _node(self, scored: Scored) -> Node:
        untried = self.space.actions(scored.part) if len(scored.schedule) < self.depth else []
        self.rng.shuffle(untried)
        return Node(scored, untried)

    def reward(self, s: Scored) -> float:
        if not self.scorer.fits(s.estimate):
            return 0.0
        return self.t0 / s.time if s.time > 0 else 1.0

    def _uct(self, parent: Node, child: Node) -> float:
        explore = self.c * max(self.best_reward, 1e-9) * math.sqrt(math.log(parent.visits) / child.visits)
        return child.total / child.visits + explore

    def _expand(self, node: Node) -> Node | None:
        while node.untried:
            action = node.untried.pop()
            part = step(node.scored.part, action)
            if part is None or key(part) in self.seen:
                continue
            self.seen.add(key(part))
            child = self._node(self.scorer((*node.scored.schedule, action), part))
            node.children.append(child)
            return child
        return None

    def _rollout(self, node: Node) -> float:
        schedule, part = node.scored.schedule, node.scored.part
        for _ in range(self.rng.randint(0, self.depth - node.depth)):
            actions = self.space.actions(part)
            self.rng.shuffle(actions)
            nxt = next(((a, p) for a in actions if (p := step(part, a)) is not None), None)
            if nxt is None:
                break
            schedule, part = (*schedule, nxt[0]), nxt[1]
        if schedule is node.scored.schedule:
            return 0.0
        return self.reward(self.scorer(schedule, part))

    def episode(self) -> None:
        node, path = self.root, [self.root]
        while not node.untried and node.children:
            parent = node
            node = max(node.children, key=lambda ch: self._uct(parent, ch))
            path.append(node)
        if node.untried and (child := self._expand(node)) is not None:
            node = child
            path.append(node)
        reward = max(self.reward(node.scored), self._rollout(node))
        self.best_reward = max(self.best_reward, reward)
        for n in path:
            n.visits += 1
            n.total += reward


def mcts(part: Partitioning, axes: Sequence[str], memory: int | None = None, episodes: int = 300,
         depth: int = 4, seed: int = 0, model: CostModel | None = None, space: Space | None = None,
         exploration: float = 1.0) -> Found:
    """UCT from ``part`` over actions on ``axes``, ``episodes`` times; ``memory`` in bytes per device."""
    start, scorer = time.process_time(), Scorer(model, memory)
    tree = _Tree(part, space or Space(tuple(axes)), scorer, depth, random.Random(seed), exploration)
    for _ in range(episodes):
        tree.episode()
    return scorer.found(part, start, "mcts")
