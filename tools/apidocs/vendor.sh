#!/usr/bin/env bash
# Copies the Swagger UI files that the gateway embeds (api/docs/swagger-ui) from the
# swagger-ui-dist package that package.json pins and `npm ci` installed, unchanged, licence texts
# included. With --check it changes nothing and fails when the committed copies are not exactly
# that package's files, so what the binary serves is what the pinned release ships.
set -euo pipefail
cd "$(dirname "$0")"

src=node_modules/swagger-ui-dist
dst=../../api/docs/swagger-ui
files=(swagger-ui-bundle.js swagger-ui.css swagger-ui-bundle.js.LICENSE.txt LICENSE NOTICE)

pinned=$(node -p 'require("./package.json").devDependencies["swagger-ui-dist"]')
installed=$(node -p "require('./$src/package.json').version" 2>/dev/null || echo none)
if [[ $installed != "$pinned" ]]; then
	echo "swagger-ui-dist $installed is installed, package.json pins $pinned: run 'npm ci' in tools/apidocs" >&2
	exit 1
fi

if [[ ${1:-} == --check ]]; then
	stale=0
	for f in "${files[@]}"; do
		if ! cmp -s "$src/$f" "$dst/$f"; then
			echo "api/docs/swagger-ui/$f is not the file of swagger-ui-dist $pinned" >&2
			stale=1
		fi
	done
	for path in "$dst"/*; do
		f=${path##*/}
		if [[ " ${files[*]} " != *" $f "* ]]; then
			echo "api/docs/swagger-ui/$f is not one of the vendored files" >&2
			stale=1
		fi
	done
	if ((stale)); then
		echo "run 'make vendor-docs' and commit api/docs/swagger-ui" >&2
		exit 1
	fi
	echo "api/docs/swagger-ui holds swagger-ui-dist $pinned"
	exit 0
fi

rm -rf "$dst"
mkdir -p "$dst"
for f in "${files[@]}"; do
	cp "$src/$f" "$dst/$f"
done
echo "vendored swagger-ui-dist $pinned into api/docs/swagger-ui"
