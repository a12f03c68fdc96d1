"""`python -m synthact …` and `torchrun -m synthact train …`."""
from .cli import main

main()
