#!/usr/bin/env bash
# Print the `export` lines that give a shell the project's Pulumi and Python,
# exactly as `make test` and `make demo` use them: eval "$(tools/env.sh)".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
engine_bin=$("$here/tools/engine.sh")
state=${FSX_STATE_DIR:-$here/.pulumi-state}
mkdir -p "$state/backend" "$state/home"
cat <<ENV
export PATH="$engine_bin:$here/.venv/bin:\$PATH"
export PULUMI_HOME="$state/home"
export PULUMI_BACKEND_URL="file://$state/backend"
export PULUMI_CONFIG_PASSPHRASE="\${PULUMI_CONFIG_PASSPHRASE-fsx-backup-provider-local}"
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_PYTHON_CMD="$here/.venv/bin/python"
ENV
