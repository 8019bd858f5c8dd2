#!/usr/bin/env python3
"""Backprop's Faster R-CNN training written out with torchvision 0.14's FasterRCNN, for bench/detection/run.sh.

Reads a PASCAL-VOC-format folder (Annotations/*.xml, JPEGImages/*.jpg|png, ImageSets/Main/<split>.txt,
classes.txt), trains with the same backbone, anchors, RPN/RoI settings, transform and SGD schedule as
`backprop detect train`, times each training step (forward + backward + update, no data loading), then scores
mAP@0.5 (py-faster-rcnn's voc_eval) and the RPN recall of the top-300 proposals on --eval-split.
The last line is `RESULT torchvision key=value ...`. With --vgg-timing it only times one VGG16 step instead."""
import argparse
import math
import os
import random
import statistics
import sys
import time
import xml.etree.ElementTree as ET


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="VOC-format folder (required unless --vgg-timing)")
    p.add_argument("--backbone", choices=["small", "vgg16"], default="small")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--max-size", type=int, default=224, help="transform min_size = max_size (224: no resize)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train-split", default="trainval")
    p.add_argument("--eval-split", default="test")
    p.add_argument("--log-every", type=int, default=20, help="a log line every N iterations")
    p.add_argument("--train-difficult", action="store_true",
                   help="train on difficult boxes too (default: left out, as py-faster-rcnn does)")
    p.add_argument("--vgg-timing", action="store_true", help="only time forward+backward of VGG16 on one image")
    p.add_argument("--repeats", type=int, default=5, help="--vgg-timing: timed repeats after one warm-up")
    args = p.parse_args(argv)
    if not args.vgg_timing and not args.data:
        p.error("--data is required unless --vgg-timing")
    return args


ARGS = parse_args(sys.argv[1:])
# Before torch loads: intra-op (OpenMP) threads from --threads; the BLAS gets the same count.
os.environ.setdefault("OMP_NUM_THREADS", str(ARGS.threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))
# The BLAS kernel choice (OPENBLAS_CORETYPE) comes from run.sh's environment: see bench/peer_env.sh.

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision.models import vgg16  # noqa: E402
from torchvision.models.detection import FasterRCNN  # noqa: E402
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead  # noqa: E402
from torchvision.models.detection.rpn import AnchorGenerator  # noqa: E402
from torchvision.ops import MultiScaleRoIAlign, box_iou  # noqa: E402

IMAGE_MEAN = [0.485, 0.456, 0.406]
IMAGE_STD = [0.229, 0.224, 0.225]
WARMUP_ITERS, WARMUP_FACTOR = 100, 0.001
MOMENTUM, WEIGHT_DECAY = 0.9, 1e-4


# ---------------------------------------------------------------- data

def read_voc(root, split, class_names):
    """Images of one split: (name, uint8 CHW tensor, boxes (n,4) float, labels (n,) int64 in 1..C, difficult (n,) bool).
    VOC boxes are 1-based inclusive pixels: (xmin-1, ymin-1, xmax, ymax) are the continuous corners."""
    index = {name: i + 1 for i, name in enumerate(class_names)}
    with open(os.path.join(root, "ImageSets", "Main", split + ".txt")) as f:
        ids = [line.strip() for line in f if line.strip()]
    items = []
    for image_id in ids:
        tree = ET.parse(os.path.join(root, "Annotations", image_id + ".xml")).getroot()
        boxes, labels, difficult = [], [], []
        for obj in tree.findall("object"):
            name = obj.findtext("name").strip()
            if name not in index:
                raise ValueError(f"{image_id}.xml: class '{name}' is not in classes.txt")
            bb = obj.find("bndbox")
            x1, y1, x2, y2 = (float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
            boxes.append([x1 - 1, y1 - 1, x2, y2])
            labels.append(index[name])
            difficult.append(int(obj.findtext("difficult") or 0) == 1)
        filename = tree.findtext("filename")
        path = os.path.join(root, "JPEGImages", filename) if filename else None
        if path is None or not os.path.exists(path):
            path = next((os.path.join(root, "JPEGImages", image_id + ext) for ext in (".jpg", ".png", ".jpeg")
                         if os.path.exists(os.path.join(root, "JPEGImages", image_id + ext))), None)
            if path is None:
                raise FileNotFoundError(f"no JPEGImages/{image_id}.jpg or .png for Annotations/{image_id}.xml")
        with Image.open(path) as im:
            pixels = torch.from_numpy(np.asarray(im.convert("RGB"), dtype=np.uint8).copy()).permute(2, 0, 1)
        items.append((image_id, pixels, torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                      torch.tensor(labels, dtype=torch.int64), torch.tensor(difficult, dtype=torch.bool)))
    return items


def to_float(pixels):
    return pixels.to(torch.float32).div_(255.0)  # RGB in [0, 1]


def make_batch(items, rng, train_difficult):
    """Images in [0,1] and targets, each image flipped left-right with probability 0.5 (boxes with it)."""
    images, targets = [], []
    for _, pixels, boxes, labels, difficult in items:
        image = to_float(pixels)
        keep = torch.ones_like(difficult) if train_difficult else ~difficult
        boxes, labels = boxes[keep].clone(), labels[keep]
        if rng.random() < 0.5:
            width = image.shape[-1]
            image = image.flip(-1)
            boxes[:, [0, 2]] = width - boxes[:, [2, 0]]
        images.append(image)
        targets.append({"boxes": boxes, "labels": labels})
    return images, targets


# ---------------------------------------------------------------- model

def small_backbone():
    """Five conv3x3(pad 1)-BN-ReLU stages, widths 16,32,64,128,128, 2x2 max pool after the first four: stride 16."""
    layers, c_in = [], 3
    for i, width in enumerate([16, 32, 64, 128, 128]):
        conv = torch.nn.Conv2d(c_in, width, 3, padding=1)
        torch.nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
        torch.nn.init.zeros_(conv.bias)
        layers += [conv, torch.nn.BatchNorm2d(width), torch.nn.ReLU(inplace=True)]
        if i < 4:
            layers.append(torch.nn.MaxPool2d(2))
        c_in = width
    body = torch.nn.Sequential(*layers)
    body.out_channels = 128
    return body, (32, 64, 128), 256


def vgg16_backbone():
    body = vgg16(weights=None).features[:-1]  # conv5_3 + ReLU, last max pool dropped: stride 16
    body.out_channels = 512
    return body, (128, 256, 512), 4096


def build_model(backbone_name, num_classes, size):
    # fc6/fc7 widths and 128 sampled RoIs per image as Backprop's FasterRcnnConfig (py-faster-rcnn's 128; VGG16's 4096).
    body, anchor_sizes, representation = small_backbone() if backbone_name == "small" else vgg16_backbone()
    anchors = AnchorGenerator(sizes=(anchor_sizes,), aspect_ratios=((0.5, 1.0, 2.0),))
    roi_pool = MultiScaleRoIAlign(featmap_names=["0"], output_size=7, sampling_ratio=2)
    head = TwoMLPHead(body.out_channels * 7 * 7, representation)
    predictor = FastRCNNPredictor(representation, num_classes + 1)
    return FasterRCNN(
        body, num_classes=None,
        min_size=size, max_size=size, image_mean=IMAGE_MEAN, image_std=IMAGE_STD,
        rpn_anchor_generator=anchors,
        rpn_pre_nms_top_n_train=2000, rpn_pre_nms_top_n_test=1000,
        rpn_post_nms_top_n_train=2000, rpn_post_nms_top_n_test=1000,
        rpn_nms_thresh=0.7, rpn_fg_iou_thresh=0.7, rpn_bg_iou_thresh=0.3,
        rpn_batch_size_per_image=256, rpn_positive_fraction=0.5, rpn_score_thresh=0.0,
        box_roi_pool=roi_pool, box_head=head, box_predictor=predictor,
        box_score_thresh=0.05, box_nms_thresh=0.5, box_detections_per_img=100,
        box_fg_iou_thresh=0.5, box_bg_iou_thresh=0.5,
        box_batch_size_per_image=128, box_positive_fraction=0.25)


def lr_factor(iteration, total):
    """Linear warm-up from 0.001x over the first 100 iterations, then x1, x0.1 from 75% of the iterations on."""
    factor = 1.0
    if iteration < WARMUP_ITERS:
        alpha = iteration / WARMUP_ITERS
        factor = WARMUP_FACTOR * (1 - alpha) + alpha
    if iteration >= int(0.75 * total):
        factor *= 0.1
    return factor


# ---------------------------------------------------------------- evaluation

def voc_ap(rec, prec):
    """All-point interpolated AP (VOC2010+): area under the precision envelope."""
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def voc_eval(detections, items, num_classes, iou_thresh=0.5):
    """py-faster-rcnn's voc_eval per class: detections greedy by score, each matched to the unmatched ground truth
    of highest IoU (> thresh; IoU of continuous boxes, no +1), difficult ones neither TP nor FP, npos = non-difficult.
    Returns (mAP over classes with npos > 0, [AP per class or None])."""
    aps = []
    for c in range(1, num_classes + 1):
        gt = {}
        npos = 0
        for image_id, _, boxes, labels, difficult in items:
            m = labels == c
            gt[image_id] = (boxes[m].numpy(), difficult[m].numpy(), np.zeros(int(m.sum()), dtype=bool))
            npos += int((~difficult[m]).sum())
        dets = [(s, image_id, b) for image_id, (boxes, labels, scores) in detections.items()
                for b, l, s in zip(boxes, labels, scores) if l == c]
        dets.sort(key=lambda d: -d[0])
        tp = np.zeros(len(dets))
        fp = np.zeros(len(dets))
        for d, (_, image_id, bb) in enumerate(dets):
            gboxes, gdiff, used = gt[image_id]
            ovmax, jmax = -np.inf, -1
            if gboxes.size:
                ix1 = np.maximum(gboxes[:, 0], bb[0])
                iy1 = np.maximum(gboxes[:, 1], bb[1])
                ix2 = np.minimum(gboxes[:, 2], bb[2])
                iy2 = np.minimum(gboxes[:, 3], bb[3])
                inter = np.maximum(ix2 - ix1, 0.0) * np.maximum(iy2 - iy1, 0.0)
                union = ((bb[2] - bb[0]) * (bb[3] - bb[1])
                         + (gboxes[:, 2] - gboxes[:, 0]) * (gboxes[:, 3] - gboxes[:, 1]) - inter)
                overlaps = inter / union
                jmax = int(np.argmax(overlaps))
                ovmax = overlaps[jmax]
            if ovmax > iou_thresh:
                if not gdiff[jmax]:
                    if not used[jmax]:
                        tp[d] = 1.0
                        used[jmax] = True
                    else:
                        fp[d] = 1.0
            else:
                fp[d] = 1.0
        if npos == 0:
            aps.append(None)
            continue
        fp, tp = np.cumsum(fp), np.cumsum(tp)
        rec = tp / float(npos)
        prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
        aps.append(voc_ap(rec, prec))
    scored = [a for a in aps if a is not None]
    return (sum(scored) / len(scored) if scored else 0.0), aps


@torch.no_grad()
def evaluate(model, items, num_classes, top_proposals=300, batch_size=4):
    """Detections for mAP, and the share of non-difficult ground truth boxes that some of the top-300 RPN proposals
    (in score order, after the RPN's NMS) covers at IoU >= 0.5."""
    model.eval()
    detections = {}
    covered = total = 0
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        images = [to_float(pixels) for _, pixels, _, _, _ in chunk]
        original_sizes = [tuple(im.shape[-2:]) for im in images]
        image_list, _ = model.transform(images)
        features = model.backbone(image_list.tensors)
        features = {"0": features} if isinstance(features, torch.Tensor) else features
        proposals, _ = model.rpn(image_list, features)
        results, _ = model.roi_heads(features, proposals, image_list.image_sizes)
        results = model.transform.postprocess(results, image_list.image_sizes, original_sizes)
        for (image_id, _, boxes, _, difficult), result, props, resized, original in zip(
                chunk, results, proposals, image_list.image_sizes, original_sizes):
            detections[image_id] = (result["boxes"].numpy(), result["labels"].numpy(), result["scores"].numpy())
            scale = torch.tensor([original[1] / resized[1], original[0] / resized[0]] * 2)
            top = props[:top_proposals] * scale
            gt = boxes[~difficult]
            total += gt.shape[0]
            if gt.shape[0] and top.shape[0]:
                covered += int((box_iou(gt, top).max(dim=1).values >= 0.5).sum())
    map50, aps = voc_eval(detections, items, num_classes)
    return map50, aps, (covered / total if total else 0.0)


# ---------------------------------------------------------------- modes

def vgg_timing(args):
    torch.manual_seed(args.seed)
    model = build_model("vgg16", 20, args.max_size)
    model.train()
    size = args.max_size
    image = torch.rand(3, size, size)
    target = {"boxes": torch.tensor([[20.0, 30.0, 120.0, 150.0], [90.0, 60.0, 200.0, 210.0]]) * size / 224,
              "labels": torch.tensor([3, 7])}
    times = []
    for r in range(args.repeats + 1):
        model.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        losses = model([image], [target])
        sum(losses.values()).backward()
        elapsed = time.perf_counter() - t0
        if r > 0:
            times.append(elapsed)
        print(f"vgg16 fwd+bwd {'warm-up' if r == 0 else f'repeat {r}'}: {elapsed:.3f} s", flush=True)
    print(f"RESULT torchvision vgg16_fwd_bwd_seconds={statistics.median(times):.4f} threads={args.threads}")


def train_and_evaluate(args):
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    with open(os.path.join(args.data, "classes.txt")) as f:
        class_names = [line.strip() for line in f if line.strip()]
    train = read_voc(args.data, args.train_split, class_names)
    test = read_voc(args.data, args.eval_split, class_names)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; {len(class_names)} classes, "
          f"{len(train)} {args.train_split} images, {len(test)} {args.eval_split} images; backbone {args.backbone}",
          flush=True)

    model = build_model(args.backbone, len(class_names), args.max_size)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=args.lr, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    per_epoch = math.ceil(len(train) / args.batch_size)
    total = per_epoch * args.epochs
    rng = random.Random(args.seed)
    step_times, images_seen, iteration = [], 0, 0
    wall_start = time.perf_counter()
    for epoch in range(args.epochs):
        order = list(range(len(train)))
        rng.shuffle(order)
        for b in range(per_epoch):
            batch = [train[i] for i in order[b * args.batch_size:(b + 1) * args.batch_size]]
            images, targets = make_batch(batch, rng, args.train_difficult)
            lr = args.lr * lr_factor(iteration, total)
            for group in optimizer.param_groups:
                group["lr"] = lr
            t0 = time.perf_counter()
            losses = model(images, targets)
            loss = sum(losses.values())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            elapsed = time.perf_counter() - t0
            step_times.append(elapsed)
            images_seen += len(batch)
            iteration += 1
            if not math.isfinite(loss.item()):
                raise FloatingPointError(f"loss is {loss.item()} at iteration {iteration}: {losses}")
            if iteration % args.log_every == 0 or iteration == total:
                parts = " ".join(f"{k.replace('loss_', '')}={v.item():.4f}" for k, v in losses.items())
                print(f"iter {iteration}/{total} epoch {epoch + 1} lr {lr:.5f} loss {loss.item():.4f} ({parts}) "
                      f"step {elapsed:.3f} s", flush=True)
    wall = time.perf_counter() - wall_start
    train_seconds = sum(step_times)
    seconds_per_iter = statistics.median(step_times)
    images_per_s = images_seen / train_seconds
    print(f"trained {iteration} iterations in {train_seconds:.1f} s of steps ({wall:.1f} s with data loading); "
          f"median {seconds_per_iter:.4f} s/iteration, {images_per_s:.2f} images/s", flush=True)

    eval_start = time.perf_counter()
    map50, aps, recall = evaluate(model, test, len(class_names))
    for name, ap in zip(class_names, aps):
        print(f"AP {name} = {'n/a (no non-difficult boxes)' if ap is None else f'{ap:.4f}'}")
    print(f"evaluated {len(test)} images in {time.perf_counter() - eval_start:.1f} s")
    print(f"RPN recall@300 (IoU 0.5) = {recall:.4f}")
    print(f"mAP@0.5 = {map50:.4f}")
    print(f"RESULT torchvision seconds_per_iter={seconds_per_iter:.4f} images_per_s={images_per_s:.3f} "
          f"train_seconds={train_seconds:.1f} map50={map50:.4f} recall300={recall:.4f} "
          f"iterations={iteration} threads={torch.get_num_threads()}")


def main():
    torch.set_num_threads(ARGS.threads)
    if ARGS.vgg_timing:
        vgg_timing(ARGS)
    else:
        train_and_evaluate(ARGS)


if __name__ == "__main__":
    main()
