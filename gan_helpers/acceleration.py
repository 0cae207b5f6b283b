r"""How training uses the device at hand: memory layout, bf16 autocast, fused Adam, ``torch.compile``.

:func:`gan_helpers.training.train_gan` (and so ``train_epochs``, the notebooks and the CLI) calls these by
default; none of them changes a loss or a model, only how the arithmetic is laid out and rounded.

- **channels_last** (:func:`prepare_models`): convolution weights and activations stored as
  ``(B, H, W, C)``, the layout oneDNN (CPU) and cuDNN (tensor cores) are fastest with.
- **bf16 autocast** (:func:`resolve_precision`, :func:`autocast`): the forward passes of
  convolutional models run in bfloat16 (8 exponent bits, as fp32; 8 significand bits) where the
  hardware multiplies it natively: CUDA GPUs that support it, and CPUs with AMX tiles. Losses are
  computed in fp32 from the logits, and the weights, gradients and Adam moments stay fp32, so no
  loss scaling is needed.
- **fused Adam** (:func:`adam`): one kernel updates every parameter on CUDA.
- **torch.compile** (opt-in, ``TrainConfig(compile=True)``): fuses elementwise operations and, on
  CUDA, cuts Python and launch overhead; compiling takes tens of seconds first. ``compile_mode`` is
  torch.compile's ``mode`` (:data:`COMPILE_MODES`): ``"reduce-overhead"`` records CUDA graphs, which
  replay a whole forward or backward pass as one launch, the fix for a launch-bound 28x28 model; it
  needs a CUDA device and is refused elsewhere. ``"max-autotune"`` also tries kernel variants (and
  uses CUDA graphs on CUDA); its first compilation takes minutes.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterable

import torch
from torch import nn

__all__ = [
    "COMPILE_MODES",
    "PRECISIONS",
    "adam",
    "autocast",
    "bf16_is_fast",
    "check_compile_mode",
    "compile_once",
    "has_convolutions",
    "prepare_models",
    "prepare_training",
    "resolve_precision",
    "to_device_layout",
]

PRECISIONS = ("auto", "fp32", "bf16")
#: torch.compile's modes that ``TrainConfig(compile_mode=...)`` and ``--compile-mode`` take.
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")

_CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def has_convolutions(*models: nn.Module) -> bool:
    """True when any of ``models`` contains a convolution (layout and bf16 pay off for those, not for tiny MLPs)."""
    return any(isinstance(m, _CONVOLUTIONS) for model in models for m in model.modules())


def bf16_is_fast(device: torch.device | str) -> bool:
    """True when ``device`` multiplies bfloat16 natively: a CUDA GPU with bf16 support, or a CPU with AMX tiles.

    Elsewhere (older CPUs, Apple's MPS) bf16 is emulated or patchy and slower than fp32.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # PyTorch's own CPU feature check
        return bool(probe is not None and probe())
    return False


def resolve_precision(precision: str, device: torch.device | str, models: Iterable[nn.Module], loss: str) -> str:
    """``"fp32"`` or ``"bf16"``: what ``precision`` (one of :data:`PRECISIONS`) means for these models here.

    ``"auto"`` is bf16 for convolutional models on a device where :func:`bf16_is_fast`, except
    for the WGAN-GP loss (its gradient penalty differentiates the gradient norm, which wants
    fp32); fp32 otherwise. An explicit ``"bf16"`` with WGAN-GP is refused.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}; choose one of {PRECISIONS}.")
    if precision == "bf16" and loss == "wgan-gp":
        raise ValueError("precision='bf16' is not supported with the wgan-gp loss: its gradient penalty needs "
                         "fp32 gradients. Use precision='fp32' or 'auto'.")
    if precision != "auto":
        return precision
    fast = loss != "wgan-gp" and has_convolutions(*models) and bf16_is_fast(device)
    return "bf16" if fast else "fp32"


def autocast(precision: str, device: torch.device | str) -> contextlib.AbstractContextManager[None]:
    """A context in which forward passes run in ``precision`` (``"bf16"``: autocast; ``"fp32"``: unchanged)."""
    device = torch.device(device)
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "fp32":
        return contextlib.nullcontext()
    raise ValueError(f"autocast takes a resolved precision, 'fp32' or 'bf16', not {precision!r}")


def prepare_models(*models: nn.Module, device: torch.device | str) -> None:
    """Store the weights of convolutional ``models`` channels_last, in place, on a CPU or CUDA ``device``.

    Idempotent, and harmless to optimisers built before: they hold the same parameter objects.
    Other devices (Apple's MPS) keep the default layout, which their kernels are written for.
    """
    if torch.device(device).type not in ("cpu", "cuda"):
        return
    for model in models:
        if has_convolutions(model):
            model.to(memory_format=torch.channels_last)


def to_device_layout(x: torch.Tensor) -> torch.Tensor:
    """An image batch ``(B, C, H, W)`` in channels_last layout (same values); other tensors unchanged."""
    return x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x


def adam(params: Iterable[nn.Parameter], lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam over ``params``: the fused single-kernel implementation when they live on CUDA (same update rule)."""
    params = list(params)
    fused = bool(params) and all(p.device.type == "cuda" for p in params)
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=fused or None)


_COMPILED: weakref.WeakSet[nn.Module] = weakref.WeakSet()


def compile_once(model: nn.Module, mode: str = "default") -> None:
    """Compile ``model`` in place with :meth:`torch.nn.Module.compile` in ``mode`` (one of :data:`COMPILE_MODES`),
    once (a second call is a no-op).

    Its calls then run the compiled graph; parameters, ``state_dict`` and checkpoints are unchanged.
    """
    if mode not in COMPILE_MODES:
        raise ValueError(f"Unknown compile mode {mode!r}; choose one of {COMPILE_MODES}.")
    if model not in _COMPILED:
        if mode == "default":
            model.compile()
        else:
            model.compile(mode=mode)
        _COMPILED.add(model)


def check_compile_mode(mode: str, device: torch.device | str) -> None:
    """``ValueError`` unless ``mode`` is one of :data:`COMPILE_MODES` that ``device`` can run: CUDA graphs
    (``"reduce-overhead"``) exist on CUDA only, where elsewhere torch.compile would quietly do without them."""
    if mode not in COMPILE_MODES:
        raise ValueError(f"Unknown compile mode {mode!r}; choose one of {COMPILE_MODES}.")
    if mode == "reduce-overhead" and torch.device(device).type != "cuda":
        raise ValueError(
            f"compile mode 'reduce-overhead' records CUDA graphs, which need a CUDA device, not "
            f"{torch.device(device)}; use the default mode there"
        )


def prepare_training(
    G: nn.Module,
    D: nn.Module,
    *,
    precision: str,
    loss: str,
    compile: bool,
    device: torch.device | str,
    compile_mode: str = "default",
) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """Apply the speed-ups around a training loop and return the context its forward passes run in.

    Resolves ``precision`` (:func:`resolve_precision`), stores convolution weights channels_last
    (:func:`prepare_models`) and, with ``compile``, compiles G and D once in ``compile_mode``
    (:func:`compile_once`, checked by :func:`check_compile_mode`).
    The returned factory gives a fresh :func:`autocast` context: ``with forward(): logits = D(x)``.
    """
    resolved = resolve_precision(precision, device, (G, D), loss)
    prepare_models(G, D, device=device)
    if compile:
        check_compile_mode(compile_mode, device)
        compile_once(G, compile_mode)
        compile_once(D, compile_mode)
    return lambda: autocast(resolved, device)
