#!/usr/bin/env bash
# image-archive.sh NAME:TAG ROOTFS_DIR OUT.tar ENTRYPOINT...
# Write a one-layer image in the `docker save` archive format from a directory,
# with no engine and no registry; `ctr images import` and `docker load` read it.
set -euo pipefail
if (($# < 4)); then
  echo "usage: image-archive.sh NAME:TAG ROOTFS_DIR OUT.tar ENTRYPOINT..." >&2
  exit 2
fi
name=$1 rootfs=$2 out=$3
shift 3
[[ -d "${rootfs}" ]] || {
  echo "image-archive: ${rootfs} is not a directory" >&2
  exit 1
}
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
# Fixed owner and mtime: the same files give the same image ID.
tar -C "${rootfs}" --numeric-owner --owner=0 --group=0 --mtime=@0 --sort=name -cf "${work}/layer.tar" .
diff_id=$(sha256sum "${work}/layer.tar" | cut -d' ' -f1)
mkdir "${work}/${diff_id}"
mv "${work}/layer.tar" "${work}/${diff_id}/layer.tar"
entry=$(printf '"%s",' "$@")
printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Entrypoint":[%s],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "${entry%,}" "${diff_id}" >"${work}/config.json"
config_id=$(sha256sum "${work}/config.json" | cut -d' ' -f1)
mv "${work}/config.json" "${work}/${config_id}.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "${config_id}" "${name}" "${diff_id}" \
  >"${work}/manifest.json"
tar -C "${work}" --numeric-owner --owner=0 --group=0 --mtime=@0 -cf "${out}" manifest.json "${config_id}.json" "${diff_id}"
echo "image-archive: ${name} → ${out} (sha256:${config_id:0:12})"
