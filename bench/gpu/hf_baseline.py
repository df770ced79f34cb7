"""Hugging Face transformers + PyTorch baseline for bench/gpu (same shape, random weights, fp16).

GPT-2-124M shape, greedy, prompt 256 + 256 new tokens (context 512), batch 1 and 32, timed the
same way as the Node bench; plus the memory-bandwidth bound of a decode step. Writes
$OUT/hf-baseline.json. QUICK=1 shrinks everything for a rehearsal.
"""
import json
import os
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel

QUICK = os.environ.get("QUICK") == "1"
OUT = os.environ.get("OUT", "gpu-out")
BANDWIDTH = 4.3e12  # H200 HBM3e, bytes/s
shape = dict(n_layer=2, n_embd=64, n_head=4, vocab_size=512, n_positions=64) if QUICK else dict(
    n_layer=12, n_embd=768, n_head=12, vocab_size=50257, n_positions=1024)
prompt, new = (16, 16) if QUICK else (256, 256)
device = "cuda" if torch.cuda.is_available() else "cpu"
dtype = torch.float16 if device == "cuda" else torch.float32

torch.manual_seed(1)
model = GPT2LMHeadModel(GPT2Config(**shape)).to(device=device, dtype=dtype).eval()
params = sum(p.numel() for p in model.parameters())
rows = []
for batch in (1, 32):
    ids = torch.randint(0, shape["vocab_size"] - 3, (batch, prompt), device=device)
    mask = torch.ones_like(ids)
    kwargs = dict(attention_mask=mask, do_sample=False, pad_token_id=0, eos_token_id=None)
    with torch.inference_mode():
        model.generate(ids, max_new_tokens=4, min_new_tokens=4, **kwargs)
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        model.generate(ids, max_new_tokens=new, min_new_tokens=new, **kwargs)
        if device == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    # Bandwidth bound of one decode step at the final context: every weight plus the whole KV cache read once.
    weight_bytes = params * 2
    kv_bytes = batch * (prompt + new) * shape["n_layer"] * 2 * shape["n_embd"] * 2
    step_s = (weight_bytes + kv_bytes) / BANDWIDTH
    row = dict(
        batch=batch,
        promptTokens=prompt,
        newTokens=new,
        tokensPerSecond=round(batch * new / seconds, 1),
        timePerStepMs=round(seconds / new * 1000, 2),
        bandwidthBound=dict(
            weightBytes=weight_bytes,
            kvBytesAtContext512=kv_bytes,
            stepMs=round(step_s * 1000, 4),
            tokensPerSecond=round(batch / step_s, 0),
        ),
    )
    rows.append(row)
    print(json.dumps(row), flush=True)

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "hf-baseline.json"), "w") as f:
    json.dump(dict(
        benchmark="hf-transformers-baseline",
        device=torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        torch=torch.__version__,
        transformers=__import__("transformers").__version__,
        parameters=params,
        rows=rows,
    ), f, indent=2)
