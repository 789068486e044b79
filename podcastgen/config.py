"""Per-provider settings: defaults ← `podcastgen.yaml` ← the episode's `providers:` ← environment.

Files may set how to reach and pace a provider; keys come only from the environment and are
never written anywhere. A build that needs a key it does not have stops before sending anything,
with one line naming the variable to set. A key goes only where the user sends it (the
provider's default URL, its `*_BASE_URL`, `podcastgen.yaml`): an episode naming another base URL
is refused unless the user allowed that URL outside the episode (`check_episode_urls`).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import InputError, Problem, ValidationError
from .filters import join_names
from .providers import KNOWN, REGISTRY, ProviderConfig
from .schema import Checker
from .source import Document, KeyPath, read_yaml_data, show_path

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


@dataclass(frozen=True)
class Project:
    """The project's podcastgen.yaml: provider settings, and where episodes may send keys."""

    providers: Settings = field(default_factory=dict)
    allow_base_urls: tuple[str, ...] = ()  # base URLs an episode may name
    allow_http: bool = False  # plain http to other machines


def project_settings(root: Path) -> Settings:
    """The `providers:` mapping of the project's podcastgen.yaml (empty when there is none)."""
    return project_config(root).providers


def project_config(root: Path, env: Mapping[str, str] | None = None) -> Project:
    """The project's podcastgen.yaml, validated (every problem at its line); empty if none."""
    file = root / PROJECT_FILE
    if not file.exists() or file.is_dir():
        return Project()
    doc = read_yaml_data(file, show_path(file), "file")
    if doc.data is None:
        return Project()
    ck = Checker(doc, root)
    data = ck.mapping((), doc.data, ("providers", "allow_base_urls", "allow_http")) or {}
    settings = check_settings(ck, ("providers",), data["providers"]) \
        if "providers" in data else {}
    listed = ck.text_list(("allow_base_urls",), data.get("allow_base_urls", [])) or []
    for i, url in enumerate(listed):
        if not url.startswith(("http://", "https://")):
            ck.fail(("allow_base_urls", i), f"expected an http(s) URL such as "
                    f"https://host/v1, got {url!r}")
    project = Project(settings, tuple(listed),
                      ck.boolean(("allow_http",), data.get("allow_http", False)) is True)
    http_ok = _trust(project, os.environ if env is None else env).http
    for name, entry in settings.items():  # the project's own URLs, but plain http stays local
        problem = _plain_http(entry.get("base_url", ""), http_ok)
        if problem:
            ck.fail(("providers", name, "base_url"), problem)
    if ck.problems:
        raise ValidationError(ck.problems)
    return project


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
    if env.get(key_var, "").strip():  # a pasted key often brings a line break along
        config = replace(config, api_key=env[key_var].strip())
    return config


def resolve_all(names: Iterable[str], *layers: Mapping[str, Any],
                env: Mapping[str, str] | None = None) -> dict[str, ProviderConfig]:
    return {name: resolve(name, *layers, env=env) for name in sorted(set(names))}


DRAFT_HINT = " (or build with --draft to preview with local voices)"


def require_keys(configs: Mapping[str, ProviderConfig], where: Path | str,
                 hint: str = DRAFT_HINT) -> None:
    """Stop before anything is sent when a provider that is needed has no usable key."""
    require_all_keys([(where, configs)], hint)


def require_all_keys(needs: Iterable[tuple[Path | str, Mapping[str, ProviderConfig]]],
                     hint: str = DRAFT_HINT) -> None:
    """`require_keys` for several episodes (where, configs): every variable to set is named in
    one run, not one per run."""
    problems = [line for where, configs in needs for line in key_problems(configs, where, hint)]
    if problems:
        raise InputError("\n".join(dict.fromkeys(problems)))  # a bad key is named once


def key_problems(configs: Mapping[str, ProviderConfig], where: Path | str,
                 hint: str = DRAFT_HINT) -> list[str]:
    """One line naming every missing key variable, and one per key that cannot be sent."""
    shown = show_path(where) if isinstance(where, Path) else where
    needed = sorted(name for name, config in configs.items()
                    if name in ENV and not config.api_key)
    found = []
    if needed:
        verb = "needs an API key" if len(needed) == 1 else "need API keys"
        found.append(f"{shown}: {join_names(needed)} {verb}: set "
                     f"{join_names(ENV[name][0] for name in needed)} in the environment{hint}")
    for name, config in sorted(configs.items()):
        bad = next((i for i, ch in enumerate(config.api_key or "") if not " " <= ch <= "~"), None)
        if bad is not None:  # an HTTP header cannot carry it; the key itself is never shown
            found.append(f"{ENV[name][0]}: the key has a control or non-ASCII character at "
                         f"position {bad + 1} of {len(config.api_key or '')}; set it again as "
                         "one line of plain characters")
    return found


# ---- where a key may go -------------------------------------------------------------------

ALLOW_URL_VAR = "PODCASTGEN_ALLOW_BASE_URL"  # URLs (space or comma separated) episodes may name
ALLOW_HTTP_VAR = "PODCASTGEN_ALLOW_HTTP"  # 1: plain http to other machines


@dataclass(frozen=True)
class Trust:
    """What the user allows beyond each provider's own URLs, from the environment and the
    project file (never from an episode)."""

    base_urls: frozenset[str]  # normalised
    http: bool


def _trust(project: Project, env: Mapping[str, str]) -> Trust:
    listed = [u for u in re.split(r"[\s,]+", env.get(ALLOW_URL_VAR, "")) if u]
    http = env.get(ALLOW_HTTP_VAR, "").strip().lower() in ("1", "true", "yes")
    return Trust(frozenset(_normal(u) for u in [*project.allow_base_urls, *listed]),
                 project.allow_http or http)


def check_destinations(names: Iterable[str], project: Project,
                       env: Mapping[str, str] | None = None) -> None:
    """Stop before anything is sent when the environment's `*_BASE_URL` of a provider in
    `names` is plain http to another machine and the user did not allow it."""
    env = os.environ if env is None else env
    trust = _trust(project, env)
    for name in sorted(n for n in names if n in ENV):
        problem = _plain_http(env.get(ENV[name][1], ""), trust.http)
        if problem:
            raise InputError(f"{ENV[name][1]}: {problem}")


def check_episode_urls(settings: Settings, doc: Document, project: Project,
                       env: Mapping[str, str] | None = None) -> None:
    """Refuse, at its line, a base URL in an episode (or its show file or template) that is
    not where the user sends that provider's key (its default, `*_BASE_URL` or
    podcastgen.yaml's) nor allowed by the user, or that is plain http to another machine."""
    env = os.environ if env is None else env
    trust, problems = _trust(project, env), []
    for name, entry in sorted(settings.items()):
        url = entry.get("base_url")
        problem = url and (_foreign(name, url, project, trust, env) or _plain_http(url, trust.http))
        if problem:
            at = doc.locate(("providers", name, "base_url"))
            problems.append(Problem(at.path, at.line, f"providers.{name}.base_url", problem))
    if problems:
        raise ValidationError(problems)


def _foreign(name: str, url: str, project: Project, trust: Trust,
             env: Mapping[str, str]) -> str | None:
    """Why an episode may not send `name`'s key to `url` (None: the user sends it there)."""
    _, url_var, default = ENV.get(name, ("", "", ""))
    own = {default, env.get(url_var, ""), project.providers.get(name, {}).get("base_url", "")}
    if _normal(url) in trust.base_urls | {_normal(u) for u in own if u}:
        return None
    return (f"refused: {url} would receive your {name} key, and only you choose where keys go "
            f"(the default {default}, {url_var} or podcastgen.yaml); to let episodes use it, "
            f"set {ALLOW_URL_VAR}={url} or add it to allow_base_urls in podcastgen.yaml")


def _plain_http(url: str, allowed: bool) -> str | None:
    """Why `url` may not carry a key: plain http to another machine, unless the user said so."""
    if allowed or not url.lower().startswith("http://") or _loopback(url):
        return None
    return (f"{url} is plain http to another machine, so the key would cross the network "
            f"unencrypted; use https, or set {ALLOW_HTTP_VAR}=1 (or allow_http: true in "
            "podcastgen.yaml)")


def _loopback(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _normal(url: str) -> str:
    """A URL as compared: scheme and host in lower case, no trailing slash."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"),
                       parts.query, ""))
