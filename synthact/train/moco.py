"""MoCo v2 for video (GATA's Algorithm 1): query and momentum key encoders, MLP heads, FIFO queues.

With real videos mixed in, synthetic and real clips get their own projection heads and their own
negative queues; a synthetic query can also take the real keys closest to it (cosine above a
threshold) as extra positives, scored with a multi-positive InfoNCE.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn


def info_nce(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float,
             extra_keys: torch.Tensor | None = None, extra_mask: torch.Tensor | None = None) -> torch.Tensor:
    """InfoNCE: one positive key per query (k), negatives from the queue.

    q, k: (B, D) unit vectors; queue: (K, D). Multi-instance form: extra_keys (M, D) with extra_mask (B, M)
    marks further positives of each query (GATA's mined real keys); unmarked extra keys take no part.
    Loss = -log(sum over positives / sum over positives and negatives).
    """
    pos = (q * k).sum(dim=1, keepdim=True)
    logits = torch.cat([pos, q @ queue.T], dim=1) / temperature
    if extra_keys is None or extra_mask is None or not extra_mask.any():
        return F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long, device=q.device))
    extra = ((q @ extra_keys.T) / temperature).masked_fill(~extra_mask, float("-inf"))
    logits = torch.cat([logits, extra], dim=1)
    positive = torch.cat([torch.ones_like(pos, dtype=torch.bool), torch.zeros_like(logits[:, 1:1 + len(queue)],
                                                                                  dtype=torch.bool), extra_mask], 1)
    return (torch.logsumexp(logits, dim=1) - torch.logsumexp(logits.masked_fill(~positive, float("-inf")), 1)).mean()


class Queue(nn.Module):
    """A FIFO of the most recent K keys (a ring buffer), kept in a buffer so checkpoints carry it."""

    def __init__(self, size: int, dim: int):
        super().__init__()
        self.register_buffer("keys", F.normalize(torch.randn(size, dim), dim=1))
        self.register_buffer("pointer", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def push(self, keys: torch.Tensor) -> None:
        """Enqueue keys (cast to the buffer's dtype: under bf16 autocast the keys are bf16, the queue float32)."""
        n, size = len(keys), len(self.keys)
        idx = (self.pointer + torch.arange(n, device=self.keys.device)) % size
        self.keys[idx] = keys.detach().to(self.keys.device, self.keys.dtype)
        self.pointer.fill_(int((self.pointer + n) % size))


def mlp_head(dim_in: int, hidden: int, dim_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim_in, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, dim_out))


class MoCo(nn.Module):
    def __init__(self, encoder: nn.Module, dim: int = 128, hidden: int = 2048, queue_size: int = 65536,
                 momentum: float = 0.999, temperature: float = 0.2, with_real: bool = False,
                 mining_threshold: float = 0.7, mining_top_k: int = 5, bn_groups: int = 1):
        super().__init__()
        self.encoder_q = encoder
        self.encoder_k = copy.deepcopy(encoder)
        feat = encoder.feature_dim
        self.head_q = nn.ModuleDict({"synthetic": mlp_head(feat, hidden, dim)})
        if with_real:
            self.head_q["real"] = mlp_head(feat, hidden, dim)
        self.head_k = copy.deepcopy(self.head_q)
        for p in list(self.encoder_k.parameters()) + list(self.head_k.parameters()):
            p.requires_grad = False
        self.queues = nn.ModuleDict({name: Queue(queue_size, dim) for name in self.head_q})
        self.momentum, self.temperature = momentum, temperature
        self.gather = lambda keys: keys  # replaced under data parallelism: every rank enqueues every key
        self.mining_threshold, self.mining_top_k = mining_threshold, mining_top_k
        self.bn_groups = bn_groups
        # the shuffles' own counter (saved in checkpoints), so a resumed run shuffles exactly as an unbroken one
        self.register_buffer("shuffles", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def momentum_update(self) -> None:
        """key = m * key + (1 - m) * query, for the encoder and the heads."""
        pairs = [(self.encoder_q, self.encoder_k), (self.head_q, self.head_k)]
        for online, target in pairs:
            for pq_, pk in zip(online.parameters(), target.parameters()):
                pk.mul_(self.momentum).add_(pq_.detach(), alpha=1 - self.momentum)
            for bq, bk in zip(online.buffers(), target.buffers()):
                bk.copy_(bq)

    def embed(self, clips: torch.Tensor, domain: str = "synthetic", key: bool = False) -> torch.Tensor:
        encoder, heads = (self.encoder_k, self.head_k) if key else (self.encoder_q, self.head_q)
        return F.normalize(heads[domain](self._grouped(encoder, clips, shuffle=key)), dim=1)

    def _grouped(self, encoder: nn.Module, clips: torch.Tensor, shuffle: bool) -> torch.Tensor:
        """Shuffling BN on one device: batch-norm statistics are taken over bn_groups separate chunks of the
        batch, and the keys are shuffled across chunks first, so a query and its key never share statistics
        (otherwise the network can match them by the batch statistics instead of the content, as MoCo
        observed; its shuffle across GPUs does the same)."""
        groups = min(self.bn_groups, len(clips))
        if groups <= 1 or not self.training:
            return encoder(clips)
        if shuffle:
            generator = torch.Generator().manual_seed(int(self.shuffles))
            self.shuffles += 1
            order = torch.randperm(len(clips), generator=generator).to(clips.device)
        else:
            order = torch.arange(len(clips), device=clips.device)
        features = torch.cat([encoder(chunk) for chunk in clips[order].chunk(groups)])
        return features[torch.argsort(order)]

    def forward(self, view_a: torch.Tensor, view_b: torch.Tensor, real_a: torch.Tensor | None = None,
                real_b: torch.Tensor | None = None) -> dict:
        """One step's losses for synthetic pairs (and real pairs when given); updates keys and queues."""
        q = self.embed(view_a)
        with torch.no_grad():
            self.momentum_update()
            k = self.embed(view_b, key=True)
        out = {}
        extra_keys = extra_mask = None
        if real_a is not None and "real" in self.queues:
            q_real = self.embed(real_a, "real")
            with torch.no_grad():
                k_real = self.embed(real_b, "real", key=True)
            out["loss_real"] = info_nce(q_real, k_real, self.queues["real"].keys.clone(), self.temperature)
            extra_keys = self.queues["real"].keys.clone()
            extra_mask = self.mine_real_positives(q.detach(), extra_keys)
            out["mined_per_query"] = extra_mask.sum(1).float().mean().detach()
            self.queues["real"].push(self.gather(self._as_queued(k_real, "real")))
        # clones: the queues change in place below, before the backward pass needs these values
        negatives = self.queues["synthetic"].keys.clone()
        out["loss_synthetic"] = info_nce(q, k, negatives, self.temperature, extra_keys, extra_mask)
        # how far the positive stands out: the pretext task is being solved while positive > negative
        out["cosine_positive"] = (q * k).sum(1).mean().detach()
        out["cosine_negative"] = (q @ negatives.T).mean().detach()
        self.queues["synthetic"].push(self.gather(self._as_queued(k, "synthetic")))
        out["loss"] = sum(v for name, v in out.items() if name.startswith("loss_"))
        return out

    def _as_queued(self, keys: torch.Tensor, queue: str) -> torch.Tensor:
        """Keys in the queue's dtype before they are gathered from the ranks (float32 under bf16 autocast: every
        backend all-gathers float32, and the queue keeps it)."""
        return keys.detach().to(self.queues[queue].keys.dtype)

    @torch.no_grad()
    def mine_real_positives(self, q_synthetic: torch.Tensor, real_keys: torch.Tensor) -> torch.Tensor:
        """(B, K_real): for each synthetic query, its top-k real keys with cosine above the threshold."""
        sim = q_synthetic @ real_keys.T
        top = sim.topk(min(self.mining_top_k, sim.shape[1]), dim=1)
        mask = torch.zeros_like(sim, dtype=torch.bool)
        mask.scatter_(1, top.indices, top.values > self.mining_threshold)
        return mask


class Supervised(nn.Module):
    """Cross-entropy on class labels: the supervised counterpart of MoCo on the same shards.

    The backbone is named encoder_q like MoCo's query encoder, so checkpoints of both evaluate alike.
    """

    def __init__(self, encoder: nn.Module, classes: int):
        super().__init__()
        self.encoder_q = encoder
        self.classifier = nn.Linear(encoder.feature_dim, classes)

    def forward(self, clips: torch.Tensor, labels: torch.Tensor) -> dict:
        logits = self.classifier(self.encoder_q(clips))
        return {"loss": F.cross_entropy(logits, labels),
                "accuracy": (logits.argmax(1) == labels).float().mean().detach()}
