"""Per-provider settings: defaults ← `podcastgen.yaml` ← the episode's `providers:` ← environment.

Files may set how to reach and pace a provider; keys come only from the environment and are
never written anywhere. A build that needs a key it does not have stops before sending anything,
with one line naming the variable to set.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, ValidationError
from .providers import KNOWN, REGISTRY, ProviderConfig
from .schema import Checker
from .source import KeyPath, read_yaml, show_path

PROJECT_FILE = "podcastgen.yaml"

# provider -> (key variable, base URL variable, default base URL)
ENV: dict[str, tuple[str, str, str]] = {
    "siliconflow": ("SILICONFLOW_API_KEY", "SILICONFLOW_BASE_URL",
                    "https://api.siliconflow.cn/v1"),
    "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1"),
    "stepfun": ("STEPFUN_API_KEY", "STEPFUN_BASE_URL", "https://api.stepfun.com/v1"),
    "coze": ("COZE_API_TOKEN", "COZE_BASE_URL", "https://api.coze.cn/v1"),
}

Settings = dict[str, dict[str, Any]]

# numeric settings: name -> (lowest, highest, whole numbers only)
NUMBERS: dict[str, tuple[float, float, bool]] = {
    "concurrency": (1, 64, True), "timeout": (1, 3600, False),
    "max_retries": (0, 20, True), "rpm": (1, 100000, True),
    "price_per_char": (0, 1000, False), "price_per_request": (0, 1000, False),
}
ENTRY_KEYS = ("base_url", *NUMBERS)


def check_settings(ck: Checker, key: KeyPath, value: Any) -> Settings:
    """Validate a `providers:` mapping; every problem is reported at its line."""
    data = ck.mapping(key, value, KNOWN) or {}
    return {name: _entry(ck, key + (name,), body) for name, body in data.items()
            if name in KNOWN}


def _entry(ck: Checker, key: KeyPath, body: Any) -> dict[str, Any]:
    if isinstance(body, dict) and ("api_key" in body or "key" in body):
        var = ENV.get(str(key[-1]), ("its key variable",))[0]
        field = "api_key" if "api_key" in body else "key"
        ck.fail(key + (field,), f"keys never go in files; set {var} in the environment")
        body = {k: v for k, v in body.items() if k != field}
    provider = REGISTRY.get(str(key[-1]))
    own = provider.config_keys if provider else ()  # what the service offers (openai: models)
    data = ck.mapping(key, body, (*ENTRY_KEYS, *own)) or {}
    out: dict[str, Any] = {name: provider.check_config(ck, key + (name,), name, data[name])
                           for name in own if name in data and provider}
    for name, (lo, hi, whole) in NUMBERS.items():
        if name in data and ck.number(key + (name,), data[name], lo, hi, whole) is not None:
            out[name] = data[name]
    if "base_url" in data:
        url = ck.text(key + ("base_url",), data["base_url"])
        if url and not url.startswith(("http://", "https://")):
            ck.fail(key + ("base_url",), f"expected an http(s) URL such as "
                    f"{ENV.get(str(key[-1]), ('', '', 'https://host/v1'))[2]}, got {url!r}")
        elif url:
            out["base_url"] = url
    return out


def project_settings(root: Path) -> Settings:
    """The `providers:` mapping of the project's podcastgen.yaml (empty when there is none)."""
    file = root / PROJECT_FILE
    if not file.is_file():
        return {}
    try:
        empty = yaml.safe_load(file.read_text(encoding="utf-8")) is None
    except (yaml.YAMLError, UnicodeDecodeError):
        empty = False  # read_yaml reports it with its line
    if empty:
        return {}
    doc = read_yaml(file, show_path(file))
    ck = Checker(doc, root)
    data = ck.mapping((), doc.data, ("providers",)) or {}
    settings = check_settings(ck, ("providers",), data["providers"]) \
        if "providers" in data else {}
    if ck.problems:
        raise ValidationError(ck.problems)
    return settings


def resolve(name: str, *layers: Mapping[str, Any],
            env: Mapping[str, str] | None = None) -> ProviderConfig:
    """One provider's config: defaults, then each file layer in order, then the environment."""
    env = os.environ if env is None else env
    key_var, url_var, default_url = ENV.get(name, ("", "", ""))
    config = ProviderConfig(name, base_url=default_url or None)
    for layer in layers:
        entry = dict(layer.get(name, {}))
        if "models" in entry:  # a later layer adds models, or redeclares one
            entry["models"] = {**config.models, **entry["models"]}
        config = replace(config, **entry)
    if env.get(url_var):
        config = replace(config, base_url=env[url_var])
    if env.get(key_var):
        config = replace(config, api_key=env[key_var])
    return config


def resolve_all(names: Iterable[str], *layers: Mapping[str, Any],
                env: Mapping[str, str] | None = None) -> dict[str, ProviderConfig]:
    return {name: resolve(name, *layers, env=env) for name in sorted(set(names))}


DRAFT_HINT = " (or build with --draft to preview with local voices)"


def require_keys(configs: Mapping[str, ProviderConfig], where: Path | str,
                 hint: str = DRAFT_HINT) -> None:
    """Stop before anything is sent when a provider that is needed has no key."""
    shown = show_path(where) if isinstance(where, Path) else where
    for name, config in sorted(configs.items()):
        if name in ENV and not config.api_key:
            raise InputError(f"{shown}: {name} needs an API key: set {ENV[name][0]} in the "
                             f"environment{hint}")
