import sys
from pathlib import Path

# Test helpers such as update_baseline.py are importable from tests.
sys.path.insert(0, str(Path(__file__).parent))
