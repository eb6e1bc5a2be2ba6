from roost.cli import app

app(prog_name="roost")
