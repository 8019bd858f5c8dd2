#!/usr/bin/env bash
# Every .prototxt under a BVLC Caffe checkout's examples/ and models/, run through Backprop as Caffe's own scripts
# would run it, from the Caffe root: solvers train (a copy with max_iter capped, test_iter 2, no periodic snapshots;
# the nets they name are Caffe's files, unmodified), the other nets run `backprop time` (deploy nets on random
# inputs). The data each file names is generated first, at the paths Caffe's scripts would have written:
# MNIST (the real set), a CIFAR-shaped set, ImageNet-shaped image lists and LMDBs with their mean files, HDF5
# lists, a PASCAL window file. Prints one line per file and the counts.
#   bash bench/caffe/catalogue.sh CAFFE_CHECKOUT [--iterations N] [--only REGEX] [--work DIR]
# A checkout from a bare mirror: mkdir /tmp/caffe && git --git-dir=REPO archive HEAD examples models | tar -x -C /tmp/caffe
set -uo pipefail
HERE=$(cd "$(dirname "$0")/../.." && pwd)
CAFFE=${1:?usage: $0 CAFFE_CHECKOUT [--iterations N] [--only REGEX] [--work DIR]}
shift
ITERATIONS=10
ONLY=.
WORK=$(mktemp -d /tmp/caffe-catalogue.XXXXXX)
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) ITERATIONS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
PYTHON=${PYTHON:-/usr/bin/python3}

dotnet build "$HERE/src/Backprop.Cli" -c Release -v quiet -nologo >/dev/null || exit 1
BP=(dotnet "$HERE/src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll")
mkdir -p "$WORK" && cp -r "$CAFFE/examples" "$CAFFE/models" "$WORK/" && cd "$WORK" || exit 1
echo "Caffe files from $CAFFE, working in $WORK"

# --- data, where Caffe's scripts put it -------------------------------------------------------------------------
quiet() { "$@" > "$WORK/.data.log" 2>&1 || { echo "data step failed: $*"; tail -3 "$WORK/.data.log"; }; }
quiet "${BP[@]}" convert-mnist --output examples/mnist
MNIST=${BACKPROP_DATA:-$HOME/.backprop/data}/mnist   # where convert-mnist caches the IDX files
quiet "${BP[@]}" convert-mnist-siamese "$MNIST/train-images-idx3-ubyte" "$MNIST/train-labels-idx1-ubyte" examples/siamese/mnist_siamese_train_leveldb
quiet "${BP[@]}" convert-mnist-siamese "$MNIST/t10k-images-idx3-ubyte" "$MNIST/t10k-labels-idx1-ubyte" examples/siamese/mnist_siamese_test_leveldb
quiet "${BP[@]}" synthesize-cifar --output examples/cifar10 --train 1000 --test 200
quiet "${BP[@]}" compute-image-mean examples/cifar10/cifar10_train_lmdb examples/cifar10/mean.binaryproto
# ImageNet-shaped: 256x256 colour images, lists "path label", LMDBs and the mean file the ImageNet nets name.
mkdir -p data/ilsvrc12/images data/flickr_style examples/_temp examples/imagenet examples/hdf5_classification/data
"$PYTHON" - <<'EOF'
import random
from PIL import Image
random.seed(1)
for split, count in (("train", 24), ("val", 8)):
    with open(f"data/ilsvrc12/{split}.txt", "w") as names:
        for i in range(count):
            image = Image.effect_noise((256, 256), 40 + 5 * i).convert("RGB")
            image.save(f"data/ilsvrc12/images/{split}_{i}.jpg", quality=90)
            names.write(f"{split}_{i}.jpg {i % 5}\n")
for name in ("train", "test"):
    with open(f"data/flickr_style/{name}.txt", "w") as f:
        for i in range(8):
            f.write(f"data/ilsvrc12/images/train_{i}.jpg {i % 5}\n")
with open("examples/_temp/file_list.txt", "w") as f:
    for i in range(8):
        f.write(f"data/ilsvrc12/images/val_{i}.jpg 0\n")
# A PASCAL window file (Caffe's window_data_layer format): per image its path, channels, height, width, then windows.
with open("examples/finetune_pascal_detection/window_file_2007_trainval.txt", "w") as f:
    for i in range(6):
        f.write(f"# {i}\ndata/ilsvrc12/images/train_{i}.jpg\n3\n256\n256\n4\n")
        f.write("1 0.9 20 20 200 200\n2 0.7 50 40 180 220\n0 0.1 0 0 60 60\n0 0.3 100 100 255 255\n")
import shutil
shutil.copy("examples/finetune_pascal_detection/window_file_2007_trainval.txt",
            "examples/finetune_pascal_detection/window_file_2007_test.txt")
EOF
for split in train val; do
  quiet "${BP[@]}" convert-imageset --resize_height 256 --resize_width 256 data/ilsvrc12/images/ "data/ilsvrc12/$split.txt" "examples/imagenet/ilsvrc12_${split}_lmdb"
done
quiet "${BP[@]}" compute-image-mean examples/imagenet/ilsvrc12_train_lmdb data/ilsvrc12/imagenet_mean.binaryproto
# HDF5: four features and a 0/1 label per record, written by Backprop's own HDF5Output layer.
for split in train test; do
  cat > "$WORK/.h5_$split.prototxt" <<EOF
layer { name: "d" type: "DummyData" top: "data" top: "label"
  dummy_data_param { shape { dim: 100 dim: 4 } shape { dim: 100 } data_filler { type: "gaussian" } data_filler { type: "constant" value: 1 } } }
layer { name: "out" type: "HDF5Output" bottom: "data" bottom: "label" hdf5_output_param { file_name: "examples/hdf5_classification/data/$split.h5" } }
EOF
  quiet "${BP[@]}" time --model "$WORK/.h5_$split.prototxt" --iterations 1
  echo "examples/hdf5_classification/data/$split.h5" > "examples/hdf5_classification/data/$split.txt"
done

# --- every file -------------------------------------------------------------------------------------------------
declare -A count=()
printf '%-70s %-8s %s\n' file result detail
while read -r file; do
  [[ "$file" =~ $ONLY ]] || continue
  if grep -qE '^\s*(net|train_net|net_param|train_net_param)\s*[:{]' "$file"; then
    kind=train
    capped="$(dirname "$file")/.catalogue_$(basename "$file")"
    sed -E -e "s/^(\s*)max_iter\s*:.*/\1max_iter: $ITERATIONS/" -e 's/^(\s*)test_iter\s*:.*/\1test_iter: 2/' \
      -e "s/^(\s*)test_interval\s*:.*/\1test_interval: $ITERATIONS/" -e 's/^(\s*)snapshot\s*:.*/\1snapshot: 0/' \
      -e 's/^(\s*)display\s*:.*/\1display: 1/' "$file" > "$capped"
    cmd=("${BP[@]}" train --solver "$capped")
  else
    kind=time
    cmd=("${BP[@]}" time --model "$file" --iterations 2)
  fi
  log="$WORK/.log_$(echo "$file" | tr '/' '_')"
  if timeout 900 "${cmd[@]}" > "$log" 2>&1; then
    result=$kind
    detail=$(grep -E 'Optimization Done|Average Forward-Backward|Total Time' "$log" | tail -1)
  else
    result=FAIL
    detail=$(grep -v '^\s*at ' "$log" | grep -iE 'error|exception|not supported|unknown|python' | head -1)
    [ -n "$detail" ] || detail=$(tail -1 "$log")
  fi
  count[$result]=$(( ${count[$result]:-0} + 1 ))
  printf '%-70s %-8s %s\n' "$file" "$result" "${detail:0:160}"
done < <(find examples models -name '*.prototxt' ! -name '.catalogue_*' | sort)
echo
for k in train time FAIL; do printf '%-6s %d\n' "$k" "${count[$k]:-0}"; done
echo "logs: $WORK/.log_*"
