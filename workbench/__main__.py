from workbench.faces.cli import run

run()
