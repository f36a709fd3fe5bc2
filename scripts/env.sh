# Sourced by the other scripts: one cached Cargo target directory outside the
# clone, so CI and developers reuse dependency builds across clones.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tenure-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"
# Mesa's device-select Vulkan layer prints "error: XDG_RUNTIME_DIR is invalid"
# on machines without a Wayland session when wgpu lists adapters; it only
# picks the GPU a display would use, which tenure does not need.
export NODEVICE_SELECT="${NODEVICE_SELECT:-1}"
