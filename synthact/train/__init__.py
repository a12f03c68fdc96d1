"""Training on packed shards (MoCo v2 on GATA pairs, or supervised) and evaluation."""
