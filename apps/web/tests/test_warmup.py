"""The start-up warm-up covers every shipped reference loader, so no first use is left to two request
threads at once (a race that crashed msgspec, see parcours_web/warmup.py)."""

from __future__ import annotations

import inspect
import sys

from parcours_web.warmup import OWN_PACKAGES, REFERENCE_LOADERS, warm_up


def test_every_cached_reference_loader_is_warmed_up() -> None:
    built = warm_up()
    assert built > 300
    cached_loaders = {
        function for module_name, module in list(sys.modules.items())
        if module_name.split(".")[0] in OWN_PACKAGES
        for name, function in vars(module).items()
        if name.startswith(("load_", "get_")) and hasattr(function, "cache_info")
        and function.__module__ == module_name
        and all(p.default is not inspect.Parameter.empty for p in inspect.signature(function).parameters.values())
    }
    missing = {f"{function.__module__}.{function.__name__}" for function in cached_loaders} - {
        f"{function.__module__}.{function.__name__}" for function in REFERENCE_LOADERS}
    assert missing == set()
    assert all(function.cache_info().currsize >= 1 for function in cached_loaders)
