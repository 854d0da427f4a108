"""The command line: a thin layer that parses, calls the core, reports, and exits with a code.

Commands are imported only when invoked, so a hook that runs `llmgitops validate` pays for the
validation code and nothing else.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from .. import __version__
from ..errors import EXIT_INTERNAL

# command name -> (module, attribute); the module is imported on first use
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("llmgitops.cli.validate_cmd", "validate"),
    "lint-prompts": ("llmgitops.cli.prompts_cmd", "lint_prompts"),
    "init": ("llmgitops.cli.init_cmd", "init"),
    "check-versions": ("llmgitops.cli.versions_cmd", "check_versions"),
    "bump": ("llmgitops.cli.versions_cmd", "bump"),
    "promote": ("llmgitops.cli.promote_cmd", "promote"),
    "render": ("llmgitops.cli.render_cmd", "render"),
    "pipeline": ("llmgitops.cli.pipeline_cmd", "pipeline"),
    "status": ("llmgitops.cli.status_cmd", "status"),
    "step": ("llmgitops.cli.step_cmd", "step"),
    "rag": ("llmgitops.cli.rag_cmd", "rag"),
    "eval": ("llmgitops.cli.eval_cmd", "eval_group"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module = importlib.import_module(target[0])
        command: click.Command = getattr(module, target[1])
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="llmgitops")
def cli() -> None:
    """Run LLM deployments the GitOps way: manifests, semver hooks, promotions, pipelines."""


def main(argv: list[str] | None = None) -> None:
    """Console entry point: exit codes 0 clean, 1 findings or failed gate, 2 usage, 3 internal error."""
    try:
        code: Any = cli.main(args=argv, prog_name="llmgitops", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        code = 130
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = 0
    except Exception as exc:  # the last line of defence: never a traceback for the user
        if os.environ.get("LLMGITOPS_DEBUG"):
            raise
        click.echo(f"llmgitops: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("  set LLMGITOPS_DEBUG=1 to see the traceback, and please report it", err=True)
        code = EXIT_INTERNAL
    sys.exit(code if isinstance(code, int) else 0)
