"""Seeded bugs: small edits of the reference, each with the check that must catch it.

One list for every module (02_tensor's are in test_suite.py).  :meth:`Bug.applied_to` and
:func:`assert_caught` hold the guards that keep a bug honest: each edit matches the reference
exactly once (a refactor cannot silently disarm it), the edited file still compiles (a syntax
error would fail every check and prove nothing about the named one), the named check fails,
and some other check still passes.
"""

from dataclasses import dataclass

from contract.modules import module_path


def patched(files, path, old, new):
    """A copy of ``files`` with one exact edit; fails loudly if the reference changed."""
    if files[path].count(old) != 1:
        raise ValueError(f"{old!r} is not exactly once in {path}")
    return {**files, path: files[path].replace(old, new)}


@dataclass(frozen=True)
class Bug:
    path: str
    edits: tuple        # ((old, new), ...) applied in order
    caught_by: str      # the check id that must fail

    def applied_to(self, files):
        """A copy of ``files`` (``{path: text}``) with this bug's edits."""
        for old, new in self.edits:
            files = patched(files, self.path, old, new)
        compile(files[self.path], self.path, "exec")
        return files


def assert_caught(bug, found):
    """``found`` (``{check id: (outcome, message)}``) of the buggy repo: the named check
    failed, and the bug did not break everything."""
    outcome, message = found[bug.caught_by]
    assert outcome == "failed", f"{bug.caught_by} was {outcome} despite the bug: {message}"
    assert "passed" in {outcome for outcome, _ in found.values()}, "the bug broke every check"


def bug(module, caught_by, *edits, path=None):
    """A bug in ``module``'s file of the package (or in ``path``)."""
    return Bug(path or module_path(module), tuple(edits), caught_by)


LOOP_OVER_PIXELS = """out = np.empty((n, ho, wo, c_out), dtype=cols.dtype)
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, i, j] = patch.reshape(n, -1) @ w_mat
    out = out.reshape(n * ho * wo, c_out)"""

SEEDED_BUGS = {
    "01_setup": {
        "cores from os.cpu_count": bug(
            "01_setup", "setup.cores.affinity", ("cores=cpu_count(),", "cores=os.cpu_count(),")),
        "full sys.version as python": bug(
            "01_setup", "setup.report.versions",
            ("python=sys.version.split()[0],", "python=sys.version,")),
        "blas not reported": bug(
            "01_setup", "setup.blas.names_library", ("blas=blas_info(),", 'blas="unknown",')),
        "sys.platform as platform": bug(
            "01_setup", "setup.report.platform",
            ("platform=platform.platform(),", "platform=sys.platform,")),
    },
    "03_activations": {
        "softmax shifted by the global maximum": bug(
            "03_activations", "activations.all.stable",
            ("e = np.exp(x.data - _stable_shift(x.data, self.dim))",
             "e = np.exp(x.data - np.max(x.data[np.isfinite(x.data)], initial=0.0))")),
        "LogSoftmax sums the last axis whatever dim": bug(
            "03_activations", "activations.softmax.every_dim",
            ("np.exp(shifted).sum(axis=self.dim, keepdims=True)",
             "np.exp(shifted).sum(axis=-1, keepdims=True)")),
        "softmax without max-subtraction": bug(
            "03_activations", "activations.softmax.stable",
            ("e = np.exp(x.data - _stable_shift(x.data, self.dim))", "e = np.exp(x.data)")),
        "naive sigmoid overflows": bug(
            "03_activations", "activations.sigmoid.stable",
            ("out = np.where(x.data >= 0, 1 / (1 + z), z / (1 + z))",
             "out = 1 / (1 + np.exp(-x.data))")),
        "gelu with x^2": bug(
            "03_activations", "activations.gelu.values", ("0.044715 * (v * v * v)", "0.044715 * (v * v)")),
        "log_softmax without shift": bug(
            "03_activations", "activations.log_softmax.stable",
            ("shifted = x.data - _stable_shift(x.data, self.dim)", "shifted = x.data")),
        "relu as abs": bug(
            "03_activations", "activations.relu.values", ("np.maximum(x.data, 0)", "np.abs(x.data)")),
        "softmax sums over the batch": bug(
            "03_activations", "activations.softmax.values",
            ("total = e.sum(axis=self.dim, keepdims=True)", "total = e.sum(axis=0, keepdims=True)")),
    },
    "04_layers": {
        "Dropout ignores its own rng": bug(
            "04_layers", "layers.dropout.seeded",
            ("keep = (self.rng or _rng).random(", "keep = _rng.random(")),
        "Flatten hard-coded for 4-D input": bug(
            "04_layers", "layers.flatten.ranks",
            ("return x.reshape(x.shape[0], -1)",
             "return x.reshape(x.shape[0], x.shape[1] * x.shape[2] * x.shape[3])")),
        "weight stored transposed": bug(
            "04_layers", "layers.linear.shapes",
            ("kaiming_uniform((in_features, out_features), in_features, rng)",
             "kaiming_uniform((out_features, in_features), in_features, rng)"),
            ("out = x @ self.weight", "out = x @ self.weight.T")),
        "dropout not scaling": bug(
            "04_layers", "layers.dropout.train_scale",
            ("x * Tensor(keep / (1.0 - self.p), dtype=x.dtype)", "x * Tensor(keep, dtype=x.dtype)")),
        "dropout keeps with probability p": bug(
            "04_layers", "layers.dropout.rate",
            ("random(x.shape, dtype=np.float32) >= self.p", "random(x.shape, dtype=np.float32) < self.p")),
        "he bound without the 3": bug(
            "04_layers", "layers.linear.init",
            ("bound = gain * np.sqrt(3.0 / fan_in)", "bound = gain * np.sqrt(1.0 / fan_in)")),
        "bias not trainable": bug(
            "04_layers", "layers.module.parameters",
            ("Tensor(np.zeros(out_features, dtype=np.float32), requires_grad=True)",
             "Tensor(np.zeros(out_features, dtype=np.float32))")),
        "flatten keeps the wrong axis": bug(
            "04_layers", "layers.flatten.shape",
            ("x.reshape(x.shape[0], -1)", "x.reshape(-1, x.shape[-1])")),
    },
    "05_losses": {
        "cross-entropy shifted by the batch's maximum": bug(
            "05_losses", "losses.cross_entropy.stable_rows",
            ("z = logits.data - logits.data.max(axis=1, keepdims=True)",
             "z = logits.data - logits.data.max()")),
        "cross-entropy without log-sum-exp": bug(
            "05_losses", "losses.cross_entropy.stable",
            ("z = logits.data - logits.data.max(axis=1, keepdims=True)", "z = logits.data")),
        "mse sums instead of averaging": bug(
            "05_losses", "losses.mse.value", ("return (diff * diff).mean()", "return (diff * diff).sum()")),
        "bce without the (1 - y) term": bug(
            "05_losses", "losses.bce.value",
            ("-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))", "-np.mean(y * np.log(p))")),
        "bce without clipping": bug(
            "05_losses", "losses.bce.clipped",
            ("p = np.clip(prediction.data, self.eps, 1 - self.eps)", "p = prediction.data")),
        "cross-entropy summed over the batch": bug(
            "05_losses", "losses.cross_entropy.value",
            ("-(target_dist * log_probs).sum() / labels.size", "-(target_dist * log_probs).sum()")),
        "label smoothing ignored": bug(
            "05_losses", "losses.cross_entropy.label_smoothing",
            ("np.full_like(log_probs, self.label_smoothing / classes)", "np.zeros_like(log_probs)"),
            ("+= 1.0 - self.label_smoothing", "+= 1.0")),
    },
    "06_optimizers": {
        "momentum buffer is the gradient array": bug(
            "06_optimizers", "optimizers.loop.reused_grads",
            ('velocity = state["velocity"] = np.array(g, dtype=param.dtype)',
             'velocity = state["velocity"] = g')),
        "Adam state in float64": bug(
            "06_optimizers", "optimizers.state.resume",
            ('state["m"], state["v"] = np.zeros_like(param), np.zeros_like(param)',
             'state["m"], state["v"] = np.zeros(param.shape), np.zeros(param.shape)')),
        "adam without bias correction": bug(
            "06_optimizers", "optimizers.adam.first_step",
            ("        denom /= math.sqrt(1 - b2**t)\n", ""),
            ("param -= (self.lr / (1 - b1**t)) * m / denom", "param -= self.lr * m / denom")),
        "momentum as a moving average": bug(
            "06_optimizers", "optimizers.sgd.momentum",
            ("velocity *= self.momentum\n                velocity += g",
             "velocity *= self.momentum\n                velocity += (1 - self.momentum) * g")),
        "nesterov ignored": bug(
            "06_optimizers", "optimizers.sgd.nesterov",
            ("g = g + self.momentum * velocity if self.nesterov else velocity", "g = velocity")),
        "adamw decay coupled to the gradient": bug(
            "06_optimizers", "optimizers.adamw.decoupled",
            ("param *= 1 - self.lr * self.weight_decay\n        return grad",
             "return grad + self.weight_decay * param\n        return grad")),
        "step_lr one step early": bug(
            "06_optimizers", "optimizers.schedule.step_lr",
            ("self.gamma ** (self.last_step // self.step_size)",
             "self.gamma ** ((self.last_step + 1) // self.step_size)")),
        "adam moments not kept": bug(
            "06_optimizers", "optimizers.adam.memory",
            ('if "m" not in state:\n            state["m"], state["v"] = np.zeros_like(param), np.zeros_like(param)\n'
             '        m, v = state["m"], state["v"]',
             "m, v = np.zeros_like(param), np.zeros_like(param)")),
    },
    "07_autograd": {
        "matmul gradient transposes with .T": bug(
            "07_autograd", "autograd.matmul.shapes",
            ("np.matmul(G, np.swapaxes(B, -1, -2))", "np.matmul(G, B.T)")),
        "cross-entropy gradient ignores the upstream gradient": bug(
            "07_autograd", "autograd.losses.upstream",
            ("return (grad * (probs - target) / probs.shape[0],)",
             "return ((probs - target) / probs.shape[0],)")),
        "relu gradient leaks for x < 0": bug(
            "07_autograd", "autograd.activations.grad",
            ("return (grad * (ctx.parents[0].data > 0),)",
             "return (grad * np.where(ctx.parents[0].data > 0, 1.0, 0.01),)")),
        "unbroadcast missing": bug(
            "07_autograd", "autograd.add.broadcast",
            ("    ### BEGIN SOLUTION\n    while grad.ndim > len(shape):",
             "    ### BEGIN SOLUTION\n    return grad\n    while grad.ndim > len(shape):")),
        "topological sort recursive": bug(
            "07_autograd", "autograd.graph.deep",
            ("    order, visited = [], set()\n    stack = [(root, False)]",
             "    order, visited = [], set()\n\n"
             "    def visit(node):\n"
             "        if id(node) not in visited:\n"
             "            visited.add(id(node))\n"
             "            for p in (node._ctx.parents if node._ctx is not None else ()):\n"
             "                if p.requires_grad:\n"
             "                    visit(p)\n"
             "            order.append(node)\n"
             "    visit(root)\n"
             "    return order\n"
             "    stack = [(root, False)]")),
        "matmul gradient not transposed": bug(
            "07_autograd", "autograd.matmul.grad",
            ("np.matmul(G, np.swapaxes(B, -1, -2))", "np.matmul(G, B)")),
        "leaf gradients overwritten": bug(
            "07_autograd", "autograd.grad.accumulates",
            ("node.grad = g.copy() if node.grad is None else node.grad + g", "node.grad = g.copy()")),
        "leaf gradient aliases the upstream array": bug(
            "07_autograd", "autograd.grad.own_arrays",
            ("node.grad = g.copy() if node.grad is None", "node.grad = g.view() if node.grad is None")),
        "fan-in gradients not summed": bug(
            "07_autograd", "autograd.graph.diamond",
            ("grads[key] = pg if key not in grads else grads[key] + pg", "grads[key] = pg")),
        "sigmoid gradient without (1 - s)": bug(
            "07_autograd", "autograd.activations.grad",
            ("grad * ctx.out * (1 - ctx.out)", "grad * ctx.out")),
        "max ties each get the whole gradient": bug(
            "07_autograd", "autograd.max.ties",
            ("share = mask / mask.sum(axis=ctx.saved[\"axis\"], keepdims=True)", "share = mask")),
    },
    "08_training": {
        "accuracy compares with (N, 1) labels by broadcasting": bug(
            "08_training", "training.accuracy.forms",
            ("scores.argmax(axis=-1) == labels.reshape(-1)", "scores.argmax(axis=-1) == labels")),
        "gradients never zeroed": bug(
            "08_training", "training.train_epoch.zero_grad",
            ("            self.optimizer.zero_grad()\n", "")),
        "checkpoint not atomic": bug(
            "08_training", "training.checkpoint.atomic",
            ("atomic_write(path, lambda f: np.savez(f, **arrays))",
             "with open(path, \"wb\") as f:\n            np.savez(f, **arrays)")),
        "clipping each tensor on its own": bug(
            "08_training", "training.clip_grad_norm.global",
            ("        scale = max_norm / (total + 1e-6)\n        for g in grads:\n            g *= scale",
             "        for g in grads:\n            g *= min(1.0, max_norm / (np.linalg.norm(g) + 1e-6))")),
        "accuracy argmax over the batch": bug(
            "08_training", "training.accuracy.values",
            ("scores.argmax(axis=-1)", "scores.argmax(axis=0)")),
        "schedule never stepped per batch": bug(
            "08_training", "training.scheduler.interval",
            ("            if self.scheduler is not None and self.scheduler_interval == \"batch\":\n"
             "                self.scheduler.step()\n", "")),
        "step before backward": bug(
            "08_training", "training.train_epoch.one_step",
            ("            loss.backward()\n", ""),
            ("            self.optimizer.step()\n", "            self.optimizer.step()\n            loss.backward()\n")),
        "clipping skipped": bug(
            "08_training", "training.grad_clip.applied",
            ("            if self.grad_clip_norm is not None:\n", "            if False:\n")),
    },
    "09_spatial": {
        "AvgPool2d ignores its stride": bug(
            "09_spatial", "spatial.pool.strides",
            ("_fold_windows(x.data, k, s, out_hw, np.add)",
             "_fold_windows(x.data, k, k, out_hw, np.add)")),
        "BatchNorm eps outside the square root": bug(
            "09_spatial", "spatial.batchnorm.tiny_variance",
            ("(1.0 / np.sqrt(var + eps))", "(1.0 / (np.sqrt(var) + eps))")),
        "padding puts the image one row too low": bug(
            "09_spatial", "spatial.conv2d.stride_padding",
            ("xp[:, padding:padding + h, padding:padding + w]",
             "xp[:, padding + 1:padding + 1 + h, padding:padding + w]")),
        "stride ignored in the output size": bug(
            "09_spatial", "spatial.conv2d.stride_padding",
            ("out = (size + 2 * padding - kernel) // stride + 1",
             "out = size + 2 * padding - kernel + 1")),
        "col2im overwrites overlapping windows": bug(
            "09_spatial", "spatial.conv2d.gradients",
            ("j:j + stride * (wo - 1) + 1:stride] += block",
             "j:j + stride * (wo - 1) + 1:stride] = block")),
        "MaxPool gradient to every element": bug(
            "09_spatial", "spatial.maxpool.gradient",
            ("hit = view == ctx.out", "hit = np.ones(ctx.out.shape, dtype=bool)"),
            ("hit &= ~taken", "pass")),
        "AvgPool gradient not divided by the window": bug(
            "09_spatial", "spatial.avgpool.values_gradient",
            ("share = grad * (1.0 / (k * k))", "share = grad")),
        "BatchNorm uses batch statistics in eval": bug(
            "09_spatial", "spatial.batchnorm.eval",
            ("    if training:\n        count = rows.shape[0]",
             "    if True:\n        count = rows.shape[0]")),
        "running variance biased": bug(
            "09_spatial", "spatial.batchnorm.running_stats",
            ("momentum * var * (count / max(count - 1, 1))", "momentum * var")),
        "eval-mode gradient with the batch formula": bug(
            "09_spatial", "spatial.batchnorm.eval_gradient",
            ('if ctx.saved["training"]:', "if True:")),
        "Conv2d loops over output pixels": bug(
            "09_spatial", "spatial.conv2d.speed", ("out = cols @ w_mat", LOOP_OVER_PIXELS)),
        "im2col copies every window before striding": bug(
            "09_spatial", "spatial.conv2d.memory",
            ("axis=(1, 2))[:, ::stride, ::stride]", "axis=(1, 2)).copy()[:, ::stride, ::stride]")),
    },
    "10_dataloader": {
        "last partial batch dropped without drop_last": bug(
            "10_dataloader", "dataloader.batches.in_order",
            ("range(0, len(self) * self.batch_size, self.batch_size)",
             "range(0, n // self.batch_size * self.batch_size, self.batch_size)")),
        "shuffle repeats items": bug(
            "10_dataloader", "dataloader.shuffle.once_per_epoch",
            ("self.rng.permutation(n)", "self.rng.integers(0, n, size=n)")),
        "the same shuffle every epoch": bug(
            "10_dataloader", "dataloader.shuffle.once_per_epoch",
            ("self.rng.permutation(n)", "np.random.default_rng(0).permutation(n)")),
        "Normalize forgets to scale uint8 to [0, 1]": bug(
            "10_dataloader", "dataloader.transforms.normalize",
            ("scale = np.float32(1 / 255) if batch.dtype == np.uint8 else np.float32(1)",
             "scale = np.float32(1)")),
        "flip upside down": bug(
            "10_dataloader", "dataloader.transforms.flip",
            ("batch[flip, :, :, ::-1]", "batch[flip, :, ::-1, :]")),
        "crop always at the top-left corner": bug(
            "10_dataloader", "dataloader.transforms.random",
            ("top = rng.integers(0, h + 2 * p - s + 1, size=n)", "top = np.zeros(n, dtype=int)"),
            ("left = rng.integers(0, w + 2 * p - s + 1, size=n)",
             "left = np.zeros(n, dtype=int)")),
        "CIFAR rows read as height, width, channel": bug(
            "10_dataloader", "dataloader.cifar.python_batches",
            (".reshape(-1, 3, 32, 32)", ".reshape(-1, 32, 32, 3).transpose(0, 3, 1, 2)")),
        "corrupt batch error without the file name": bug(
            "10_dataloader", "dataloader.cifar.corrupt_batch",
            ('raise ValueError(f"corrupt CIFAR-10 batch {file}: {type(exc).__name__}: {exc}")',
             'raise ValueError(f"corrupt CIFAR-10 batch: {exc}")')),
    },
    "11_tokenization": {
        "BPE merged tokens decode with their halves swapped": bug(
            "11_tokenization", "tokenization.bpe.roundtrip",
            ("self._add_token(self.id_to_token[pair[0]] + self.id_to_token[pair[1]])",
             "self._add_token(self.id_to_token[pair[1]] + self.id_to_token[pair[0]])")),
        "BPE learns one token too many": bug(
            "11_tokenization", "tokenization.bpe.vocab_size",
            ("while self.vocab_size < self.target_size and heap:",
             "while self.vocab_size <= self.target_size and heap:")),
        "unseen character raises KeyError": bug(
            "11_tokenization", "tokenization.char.unknown",
            ("[get(ch, self.unk_id) for ch in text]", "[self.token_to_id[ch] for ch in text]")),
        "character ids in order of appearance": bug(
            "11_tokenization", "tokenization.char.vocabulary",
            ("self.id_to_token += sorted(set(corpus) - {UNKNOWN})",
             "self.id_to_token += [ch for ch in dict.fromkeys(corpus) if ch != UNKNOWN]")),
        "BPE trained on pairs of words": bug(
            "11_tokenization", "tokenization.bpe.within_words",
            ("word_counts = Counter(_WORDS.findall(corpus))",
             r'word_counts = Counter(re.findall(r"(?: ?\S+){1,2}|\s+", corpus))')),
    },
    "12_embeddings": {
        "embedding gradient overwritten instead of accumulated": bug(
            "12_embeddings", "embeddings.embedding.gradient",
            ("np.add.at(full, index, grad)", "full[index] = grad"),
            path=module_path("07_autograd")),
        "lookup detached from the weight": bug(
            "12_embeddings", "embeddings.embedding.gradient",
            ("return self.weight[ids]", "return Tensor(self.weight.data[ids])")),
        "sin and cos swapped": bug(
            "12_embeddings", "embeddings.sinusoidal.values",
            ("table[:, 0::2] = np.sin(angles)", "table[:, 0::2] = np.cos(angles)"),
            ("table[:, 1::2] = np.cos(angles[:, : embed_dim // 2])",
             "table[:, 1::2] = np.sin(angles[:, : embed_dim // 2])")),
        "positional offset ignored": bug(
            "12_embeddings", "embeddings.positional.learned",
            ("return x + self.weight[offset:offset + steps]", "return x + self.weight[:steps]")),
        "embedding initialised uniform in [0, 1)": bug(
            "12_embeddings", "embeddings.embedding.init",
            ("standard_normal((vocab_size, embed_dim))", "random((vocab_size, embed_dim))")),
    },
    "13_attention": {
        "scaled by d instead of sqrt(d)": bug(
            "13_attention", "attention.sdpa.values",
            ("scale = 1.0 / np.sqrt(Q.shape[-1])", "scale = 1.0 / Q.shape[-1]")),
        "causal mask off by one": bug(
            "13_attention", "attention.causal_mask.no_peeking",
            ("dtype=bool), k=num_keys - num_queries)",
             "dtype=bool), k=num_keys - num_queries + 1)")),
        "masked entries still get gradient": bug(
            "13_attention", "attention.masked_fill.gradient",
            ('np.where(ctx.saved["mask"], 0, grad)', "grad")),
        "heads split without the transpose": bug(
            "13_attention", "attention.mha.values",
            ("x.data.reshape(batch, steps, num_heads, head_dim).transpose(0, 2, 1, 3)",
             "x.data.reshape(batch, num_heads, steps, head_dim)")),
        "padding keeps one pad position": bug(
            "13_attention", "attention.padding_mask.values",
            ("np.arange(max_len)[None, :] < lengths", "np.arange(max_len)[None, :] <= lengths")),
    },
    "14_transformers": {
        "layer norm with the unbiased variance": bug(
            "14_transformers", "transformers.layer_norm.values",
            ("np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + eps)",
             "np.sqrt(x.data.var(axis=-1, ddof=1, keepdims=True) + eps)")),
        "layer norm gradient misses the mean term": bug(
            "14_transformers", "transformers.layer_norm.gradients",
            ("rstd * (g - g.mean(axis=-1, keepdims=True) - normed", "rstd * (g - normed")),
        "no residual around attention": bug(
            "14_transformers", "transformers.block.values",
            ("x = x + self.dropout(self.attn(", "x = self.dropout(self.attn(")),
        "GPT without the causal mask": bug(
            "14_transformers", "transformers.gpt.causal",
            ("mask = causal_mask(steps, past + steps) if steps > 1 else None", "mask = None")),
        "GPT skips the final LayerNorm": bug(
            "14_transformers", "transformers.gpt.values",
            ("self.head(self.ln_f(x).reshape(", "self.head(x.reshape(")),
    },
    "15_generation": {
        "KV cache returns only the new keys": bug(
            "15_generation", "generation.kv_cache.update",
            ("return Tensor(self.keys[:, :, :end]), Tensor(self.values[:, :, :end])",
             "return k, v")),
        "top-k keeps k+1 tokens": bug(
            "15_generation", "generation.sample.top_k",
            ("np.partition(z, -top_k, axis=-1)[:, -top_k]",
             "np.partition(z, -top_k - 1, axis=-1)[:, -top_k - 1]")),
        "temperature multiplies the logits": bug(
            "15_generation", "generation.sample.temperature",
            ("z = logits / temperature", "z = logits * temperature")),
        "top-p drops the token that crosses p": bug(
            "15_generation", "generation.sample.top_p",
            ("before >= top_p", "before + sorted_probs >= top_p")),
        "the cache is never used": bug(
            "15_generation", "generation.kv_cache.speed",
            ("cache = KVCache.for_model(model, ids.shape[0]) if use_cache else None",
             "cache = None")),
    },
    "16_kernels": {
        "blocked matmul overwrites instead of accumulating": bug(
            "16_kernels", "kernels.matmul_blocked.values",
            ("out[i0 : i0 + tile, j0 : j0 + tile] += a_tile",
             "out[i0 : i0 + tile, j0 : j0 + tile] = a_tile")),
        "blocked matmul with 16x16 tiles": bug(
            "16_kernels", "kernels.matmul_blocked.speed",
            ("def matmul_blocked(a, b, tile: int = 64)",
             "def matmul_blocked(a, b, tile: int = 16)")),
        "online softmax forgets to rescale its sum": bug(
            "16_kernels", "kernels.softmax_loops.values",
            ("running_sum *= math.exp(running_max - value)", "running_sum *= 1.0")),
        "time_kernel reports the mean": bug(
            "16_kernels", "kernels.time_kernel.median",
            ("return statistics.median(times)", "return statistics.mean(times)")),
        "fused softmax allocates a temporary": bug(
            "16_kernels", "kernels.softmax_fused.memory",
            ("np.subtract(x, x.max(axis=-1, keepdims=True), out=out)",
             "out[...] = x - x.max(axis=-1, keepdims=True)")),
        "im2col patches with kh and kw swapped": bug(
            "16_kernels", "kernels.conv2d_im2col.values",
            ("cols.transpose(0, 4, 5, 1, 2, 3)", "cols.transpose(0, 4, 5, 1, 3, 2)")),
        "strided conv ignores the stride": bug(
            "16_kernels", "kernels.conv2d_strided.values",
            ("windows[:, :, : stride * oh : stride, : stride * ow : stride]",
             "windows[:, :, :oh, :ow]")),
    },
    "17_benchmarking": {
        "linear counts MACs, not FLOPs": bug(
            "17_benchmarking", "benchmarking.linear_flops.formula",
            ("rows * out_features * (2 * in_features + int(bias))",
             "rows * out_features * (in_features + int(bias))")),
        "attention counts one matmul": bug(
            "17_benchmarking", "benchmarking.attention_flops.formula",
            ("return 2 * (2 * batch * heads * queries * keys * head_dim)",
             "return 2 * batch * heads * queries * keys * head_dim")),
        "conv counts no input channels": bug(
            "17_benchmarking", "benchmarking.conv2d_flops.formula",
            ("(2 * channels * kh * kw + int(bias))", "(2 * kh * kw + int(bias))")),
        "benchmark skips the warm-up": bug(
            "17_benchmarking", "benchmarking.benchmark.run",
            ("for _ in range(self.warmup):", "for _ in range(0):")),
        "median is the mean": bug(
            "17_benchmarking", "benchmarking.summarize.percentiles",
            ("q1, median, q3 = np.percentile(times, [25, 50, 75])",
             "q1, median, q3 = np.percentile(times, [25, 50, 75])\n    median = times.mean()")),
        "biases not counted": bug(
            "17_benchmarking", "benchmarking.count_parameters.values",
            ("sum(p.size for p in model.parameters())",
             "sum(p.size for p in model.parameters() if p.ndim > 1)")),
    },
    "18_mlops": {
        "hash not checked on load": bug(
            "18_mlops", "mlops.state.tampered_refused",
            ('if actual != manifest["sha256"]:', "if False:")),
        "hash ignores shapes": bug(
            "18_mlops", "mlops.state_hash.sensitive",
            ("json.dumps([name, array.dtype.str, list(array.shape)])",
             "json.dumps([name, array.dtype.str])")),
        "KS without the absolute value": bug(
            "18_mlops", "mlops.ks.values",
            ("np.max(np.abs(cdf_reference - cdf_live))", "np.max(cdf_reference - cdf_live)")),
        "PSI log ratio upside down": bug(
            "18_mlops", "mlops.psi.values",
            ("np.log(actual / expected)", "np.log(expected / actual)")),
        "drift needs both statistics": bug(
            "18_mlops", "mlops.drift.monitor",
            ("drifted = psi > self.psi_threshold or ks > critical",
             "drifted = psi > self.psi_threshold and ks > critical")),
        "registry numbers versions from 0": bug(
            "18_mlops", "mlops.registry.versions",
            ("version = (self.versions(name) or [0])[-1] + 1",
             "version = len(self.versions(name))")),
    },
}
