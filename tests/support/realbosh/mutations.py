"""Small edits of a manifest (a dict), for tables of mutations: ``put("jobs.0.instances", -1)``,
``drop("name")``, ``add("networks", {...})``, ``copy_of("jobs.0", "jobs", name="bosh2")``, ``both(...)``.

A path is dotted keys, with list indexes as numbers.  Each function returns the edit; applying it
changes the dict in place.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

Mutation = Callable[[dict], None]


def _walk(doc: dict, path: str):
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    for key in keys[:-1]:
        doc = doc[key]
    return doc, keys[-1]


def put(path: str, value) -> Mutation:
    def mutate(doc: dict) -> None:
        parent, key = _walk(doc, path)
        parent[key] = value

    return mutate


def drop(path: str) -> Mutation:
    def mutate(doc: dict) -> None:
        parent, key = _walk(doc, path)
        del parent[key]

    return mutate


def add(path: str, value) -> Mutation:
    def mutate(doc: dict) -> None:
        parent, key = _walk(doc, path)
        parent[key].append(copy.deepcopy(value))

    return mutate


def copy_of(path: str, into: str, **changes) -> Mutation:
    def mutate(doc: dict) -> None:
        parent, key = _walk(doc, path)
        target, tkey = _walk(doc, into)
        target[tkey].append({**copy.deepcopy(parent[key]), **changes})

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(doc: dict) -> None:
        for m in mutations:
            m(doc)

    return mutate
