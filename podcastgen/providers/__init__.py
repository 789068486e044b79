"""Provider registry: every backend registers by name; an unknown name lists the choices."""

from __future__ import annotations

from .base import Audio, Job, Provider, ProviderConfig
from .coze import CozeProvider
from .local import LocalProvider
from .openai import OpenAIProvider
from .siliconflow import SiliconFlowProvider
from .stepfun import StepFunProvider

# Names the episode format knows; those without a class here are not available in this build.
KNOWN = ("local", "siliconflow", "openai", "stepfun", "coze")
REGISTRY: dict[str, type[Provider]] = {cls.name: cls for cls in (
    LocalProvider, SiliconFlowProvider, OpenAIProvider, StepFunProvider, CozeProvider)}

__all__ = ["Audio", "Job", "Provider", "ProviderConfig", "KNOWN", "REGISTRY", "get"]


def get(name: str, config: ProviderConfig | None = None) -> Provider:
    """An instance of the provider called `name`."""
    return REGISTRY[name](config)
