"""Shared by the Triton kernels' tests: a small model with Huffman paths, and the torch-op step they must equal."""
from types import SimpleNamespace

import numpy as np
import torch

from torchw2v.huffman import huffman_tree
from torchw2v.objectives import (cbow_step, clear_padding_rows, hierarchical_softmax_targets, negative_targets,
                                 padded_tree, skipgram_step)


def random_model(vocab, dim, device, seed=0):
    """Random weights (output rows too, so that every gradient is non-zero) and the Huffman paths."""
    generator = torch.Generator().manual_seed(seed)
    weights = {name: (torch.rand(rows, dim, generator=generator) - 0.5) for name, rows in
               (("syn0", vocab), ("syn1neg", vocab), ("syn1", vocab - 1))}
    tree = huffman_tree(np.arange(vocab, 0, -1) * 10).padded()
    weights.update(points=torch.from_numpy(tree.points), codes=torch.from_numpy(tree.codes).float(),
                   path_lengths=torch.from_numpy(tree.lengths))
    return {name: tensor.to(device) for name, tensor in weights.items()}


def torch_step(model, batch, sg, cbow_mean, objectives, lr, update, bound=False):
    """objectives.skipgram_step / cbow_step on padded copies of ``model``; returns (weights, loss).

    ``batch`` is (centers, contexts, negatives); ``update`` a function of the padded matrices that
    returns the update rule; ``bound`` adds skip-gram's Newton bound (the rule's ``newton_bound``).
    """
    centers, contexts, negatives = batch
    device = model["syn0"].device
    padded = {name: torch.cat([model[name], torch.zeros_like(model[name][:1])])
              for name in ("syn0", "syn1neg", "syn1")}
    rule = update(padded)
    targets = []
    if "hs" in objectives:
        tree = SimpleNamespace(points=model["points"].cpu().numpy(), codes=model["codes"].cpu().numpy(),
                               lengths=model["path_lengths"].cpu().numpy())
        points, labels = padded_tree(tree, padded["syn1"].shape[0], device)
        targets.append(hierarchical_softmax_targets(padded["syn1"], points, labels, centers))
    if "negative" in objectives:
        targets.append(negative_targets(padded["syn1neg"], centers, negatives))
    if sg:
        loss = skipgram_step(padded["syn0"], contexts, targets, lr, rule, compute_loss=True,
                             bound_repeats=rule.newton_bound if bound else None)
    else:
        loss = cbow_step(padded["syn0"], contexts, targets, lr, rule, cbow_mean=cbow_mean, compute_loss=True)
    clear_padding_rows(*padded.values())
    return dict(model, **{name: matrix[:-1] for name, matrix in padded.items()}), float(loss)


def objective_arguments(weights, negatives, objectives):
    """fused_step's keyword arguments for the objectives ("negative", "hs") on ``weights``."""
    arguments = {}
    if "negative" in objectives:
        arguments.update(syn1neg=weights["syn1neg"], negatives=negatives)
    if "hs" in objectives:
        arguments.update({name: weights[name] for name in ("syn1", "points", "codes", "path_lengths")})
    return arguments
