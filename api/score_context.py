"""What the score routes take from the app: the engine, policies, registry and caches."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker as SessionMaker

from features.catalogue import Catalogue
from features.registry import Registry
from scoring.assessments import LimitPolicy
from scoring.group_commit import GroupCommit
from scoring.publish import BundleCache
from scoring.score_views import FeatureNames
from scoring.scores import ScoringPolicy
from scoring.settings import Settings

__all__ = [
    "bundles",
    "catalogue",
    "engine",
    "feature_names",
    "group_commit",
    "limits",
    "policy",
    "read_engine",
    "registry",
    "sessionmaker",
    "settings",
]


def engine(request: Request) -> Engine:
    value: Engine = request.app.state.engine
    return value


def read_engine(request: Request) -> Engine:
    """The engine in autocommit: a single read statement needs no transaction of its own."""
    value: Engine = request.app.state.read_engine
    return value


def sessionmaker(request: Request) -> SessionMaker[Session]:
    value: SessionMaker[Session] = request.app.state.sessionmaker
    return value


def group_commit(request: Request) -> GroupCommit:
    """The process's group commit of registered reads (``scoring.group_commit``)."""
    value: GroupCommit = request.app.state.group_commit
    return value


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def policy(request: Request) -> ScoringPolicy:
    value: ScoringPolicy = request.app.state.policy
    return value


def registry(request: Request) -> Registry:
    value: Registry = request.app.state.registry
    return value


def catalogue(request: Request) -> Catalogue:
    value: Catalogue = request.app.state.catalogue
    return value


def limits(request: Request) -> LimitPolicy:
    value: LimitPolicy = request.app.state.limits
    return value


def feature_names(request: Request) -> FeatureNames:
    value: FeatureNames = request.app.state.feature_names
    return value


def bundles(request: Request) -> BundleCache:
    value: BundleCache = request.app.state.bundle_cache
    return value
