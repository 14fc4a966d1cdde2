"""app.teaching stays a plain library of the explainer: no Streamlit inside, and only its sections
module reads the text files under assets/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "app" / "teaching"
MODULES = sorted(p.stem for p in TEACHING.glob("*.py") if p.stem != "__init__")
FILE_READS = {"open", "read_text", "read_bytes", "glob", "iterdir"}


def test_importing_every_teaching_module_loads_no_streamlit() -> None:
    """Import them all in a fresh interpreter: streamlit must not be among the modules loaded, directly or not."""
    imports = "; ".join(f"import app.teaching.{m}" for m in MODULES)
    code = f"import sys; {imports}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert {"numbers", "sections", "sources", "questions", "figures"} <= set(MODULES)


def test_only_the_sections_module_reads_files() -> None:
    for name in MODULES:
        tree = ast.parse((TEACHING / f"{name}.py").read_text(encoding="utf-8"))
        called = {
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
        }
        strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        reads = called & FILE_READS
        if name == "sections":
            assert reads and "assets" in strings
        else:
            assert not reads, f"app/teaching/{name}.py calls {reads}"
            assert "assets" not in strings, f"app/teaching/{name}.py names assets/"
