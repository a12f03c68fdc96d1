"""Test double of Infinigen's generate_indoors: takes its command line, writes a prepared room as the scene
(SYNTHACT_TEST_ROOM), and crashes on seeds listed in SYNTHACT_TEST_CRASH_SEEDS. Orchestration tests only."""
import argparse
import os
import shutil
import sys
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, required=True)
parser.add_argument("--task", required=True)
parser.add_argument("--output_folder", required=True)
parser.add_argument("-g", nargs="+")
parser.add_argument("-p", nargs="+")
args = parser.parse_args()
assert Path.cwd() == Path(__file__).parent.parent, "generate_indoors starts in the installed site-packages folder"
if str(args.seed) in os.environ.get("SYNTHACT_TEST_CRASH_SEEDS", "").split(","):
    print("Traceback: the solver failed", flush=True)
    sys.exit(3)
shutil.copyfile(os.environ["SYNTHACT_TEST_ROOM"], Path(args.output_folder) / "scene.blend")
print(f"made room seed {args.seed} with {' '.join(args.p)}")
