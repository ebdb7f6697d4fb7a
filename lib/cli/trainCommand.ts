// `npm run finetune` and `npm run feature-extract`: the tutorial as a command.
import * as fs from "fs";
import * as path from "path";
import { defaultDevice } from "../device";
import { setTransformSeed } from "../random";
import { cuda, getNumThreads, libtorchVersion, manualSeed } from "../runtime";
import { CrossEntropyLoss } from "../nn/loss";
import { LRSchedulerState } from "../optim/lrScheduler";
import { cloneStateDict, disposeStateDict } from "../train/stateDicts";
import {
  CHECKPOINT_FILE, checkpointOptimizerState, HISTORY_FILE, loadCheckpoint, MODEL_FILE, modelMetadata, parseModelMetadata, RunSettings, runFolderState,
  saveCheckpoint, writeJsonAtomic,
} from "../train/checkpoint";
import { captureRng, restoreRng } from "../train/rngState";
import { extractFeatures, trainLinearProbe } from "../train/linearProbe";
import { EpochRecord, trainModel, TrainingInterrupted } from "../train/trainModel";
import { checkImages } from "../data/checkImages";
import { DataLoader } from "../data/dataLoader";
import { hasImageExtension } from "../datasets/imageFolder";
import { DistributedSampler, ShardSampler } from "../distributed/sampler";
import { Mode, tutorialModel } from "../train/tutorial";
import { Preprocessing, preprocessingFor, savedPreprocessing, TUTORIAL_PREPROCESSING } from "../train/preprocessing";
import { fineTunePhase, phaseOf } from "../train/fineTune";
import { checkFreezeFlags } from "./fineTuneFlags";
import { defaultWeightDecay, describeRecipe, OPTIMIZERS, RecipeSettings, recipeOptimizer, recipeScheduler, SCHEDULERS } from "../train/recipe";
import { getHead, getModelWeights, listModels } from "../models/registry";
import { phaseProgress, PhaseProgress } from "./progress";
import { CommandSpec, FlagTable, helpText, parseCommand } from "./flags";
import { intFlag, numberFlag, UsageError } from "./usage";
import { deviceFlag } from "./modelFlags";
import { AUGMENTS, batchMixing } from "../transforms/augment/presets";
import { MixedBatches } from "../transforms/augment/mixedBatches";
import { DATA_FLAGS } from "./dataFlags";
import { runData, SPLIT_FILE, writeSplit } from "./runData";
import { classWeightsFor } from "./classWeights";
import { LabelledImages } from "../datasets/labelledImages";
import { Dataset } from "../data/dataLoader";
import { tensor } from "../tensor";
import { ampPlan } from "../amp/plan";

// One entry per flag: --help, parsing and "did you mean" all read this table.
const FLAGS = {
  arch: { type: "string", value: "NAME", default: "resnet18", help: "the architecture, by torchvision's name (resnet50, mobilenet_v3_large, convnext_tiny, ...)" },
  data: { type: "string", value: "DIR", default: "data/hymenoptera_data, fetched when missing", help: "an ImageFolder root holding train/ and val/, one sub-folder per class (or see --val-split, --labels)" },
  ...DATA_FLAGS,
  epochs: { type: "string", value: "N", default: "25", help: "passes over the training set" },
  "batch-size": { type: "string", value: "N", default: "4", help: "images per training step" },
  lr: { type: "string", value: "X", default: "0.001", help: "the learning rate (onecycle: its peak)" },
  momentum: { type: "string", value: "X", default: "0.9", help: "SGD's momentum (onecycle cycles it from 0.95 to 0.85 and back)" },
  optimizer: { type: "string", value: "sgd|adamw", default: "sgd", help: "SGD with momentum (the tutorial's) or AdamW" },
  "weight-decay": { type: "string", value: "X", default: "0 for sgd, 0.01 for adamw", help: "L2 penalty (SGD) or decoupled weight decay (AdamW)" },
  scheduler: { type: "string", value: "step|cosine|onecycle", default: "step", help: "StepLR or cosine decay per epoch, or one-cycle per batch" },
  "warmup-epochs": { type: "string", value: "N", default: "0", help: "step, cosine: a linear warm-up from 1% of lr first; onecycle: the length of its rise" },
  "step-size": { type: "string", value: "N", default: "7", help: "StepLR: epochs between learning-rate decays" },
  gamma: { type: "string", value: "X", default: "0.1", help: "StepLR: the factor of each decay" },
  augment: { type: "string", value: "tutorial|trivialaugment|randaugment", default: "tutorial", help: "training augmentation: crop and flip, plus TrivialAugmentWide or RandAugment as torchvision's references add them" },
  mixup: { type: "string", value: "X", default: "0 (off)", help: "MixUp's alpha: each batch mixed with itself rolled by one, Beta(X, X) weights, soft targets" },
  cutmix: { type: "string", value: "X", default: "0 (off)", help: "CutMix's alpha (with --mixup: one of the two per batch, as torchvision's references choose)" },
  "label-smoothing": { type: "string", value: "X", default: "0", help: "CrossEntropyLoss's label smoothing, in [0, 1)" },
  "random-erase": { type: "string", value: "P", default: "0", help: "RandomErasing's probability, on the normalized tensor" },
  weights: { type: "string", value: "DEFAULT|IMAGENET1K_V1|IMAGENET1K_V2|imagenet|none|FILE", default: "imagenet (the architecture's DEFAULT)", help: "starting weights: torchvision's ImageNet ones, random, or a file" },
  device: { type: "string", value: "cpu|cuda|cuda:N", default: "cuda:0 when there is one, else cpu", help: "where the model runs" },
  out: { type: "string", value: "DIR", default: "runs/finetune or runs/feature-extract" as string, help: "folder for model.safetensors, the checkpoint, history and report" },
  resume: { type: "string", value: "DIR", help: "continue the run saved in DIR (its settings, unless given again)" },
  workers: { type: "string", value: "N", default: "the number of cores, at least 2", help: "images decoded at once" },
  seed: { type: "string", value: "N", default: "0", help: "seed for weights, shuffling and augmentation" },
  "freeze-epochs": { type: "string", value: "N", default: "0", help: "finetune: train the head (and BatchNorm) alone for N epochs first, then everything at half the lr, as fastai's fine_tune" },
  "backbone-lr-mult": { type: "string", value: "X", default: "0.01", help: "with --freeze-epochs: the backbone's lr after unfreezing, as a multiple of the head's (fastai's 1/lr_mult)" },
  "early-stop": { type: "string", value: "N", default: "off", help: "stop when the val accuracy has not beaten its best for N epochs (the best weights are kept)" },
  amp: { type: "boolean", help: "mixed precision: float16 autocast with a GradScaler on CUDA (torch.cuda.amp); on CPU bfloat16 autocast where the CPU has AVX512_BF16 or AMX, else float32 (it says so)" },
  "channels-last": { type: "boolean", help: "train and evaluate with the model in torch.channels_last (NHWC) memory format: oneDNN's channels-last convolutions, faster on many CPUs; the same values to float rounding (the default with --amp on a CPU)" },
  "no-channels-last": { type: "boolean", help: "keep the model contiguous (NCHW), also under --amp on a CPU" },
  json: { type: "boolean", help: "print one JSON line per phase and one at the end, no progress bars" },
  "no-report": { type: "boolean", help: "skip the pictures and report.html" },
  "verify-images": { type: "boolean", help: "decode every image once before training; list every bad one and stop if any" },
  "skip-bad-images": { type: "boolean", help: "leave out images that cannot be decoded (each named, and counted), rather than stop" },
  "nproc-per-node": { type: "string", value: "N", default: "1", help: "data-parallel worker processes on this machine (CPU, Gloo)" },
  nnodes: { type: "string", value: "N", default: "1", help: "machines taking part (with --nproc-per-node)" },
  "node-rank": { type: "string", value: "N", default: "0", help: "this machine's index among --nnodes" },
  "master-addr": { type: "string", value: "HOST", default: "127.0.0.1", help: "rank 0's host, for --nnodes above 1" },
  "master-port": { type: "string", value: "PORT", default: "29500", help: "rank 0's rendezvous port" },
  "dist-timeout": { type: "string", value: "SECONDS", default: "1800", help: "how long the rendezvous and each collective may wait for the other ranks (PyTorch's default: 30 minutes)" },
} as const satisfies FlagTable;

/** feature-extract's own flags, on top of FLAGS. */
const FEATURE_EXTRACT_FLAGS = {
  "cache-features": { type: "boolean", help: "a linear probe instead of the tutorial's method: run the frozen backbone once, train fc on cached features (seconds, not minutes)" },
} as const satisfies FlagTable;

const ROOT = path.resolve(__dirname, "..", "..");

type TrainFlags = typeof FLAGS & typeof FEATURE_EXTRACT_FLAGS;

export function commandSpec(mode: Mode): CommandSpec<TrainFlags> {
  const name = mode === "finetune" ? "finetune" : "feature-extract";
  // finetune's table lacks --cache-features; its type keeps it, as a flag never given.
  const flags = (mode === "finetune" ? FLAGS : { ...FLAGS, ...FEATURE_EXTRACT_FLAGS }) as TrainFlags;
  return {
    name,
    summary:
      mode === "finetune"
        ? "Fine-tune every layer of a ResNet-18 (or --arch) with a new head on an image folder, as PyTorch's transfer-learning tutorial does."
        : "Freeze a ResNet-18 (or --arch) and train only a new head on an image folder, as PyTorch's transfer-learning tutorial does.",
    flags: { ...flags, out: { ...FLAGS.out, default: `runs/${name}` } },
    examples: [
      `npm run ${name}`,
      `npm run ${name} -- --data photos --epochs 5 --out runs/photos`,
      `npm run ${name} -- --resume runs/photos --epochs 10`,
      `npm run ${name} -- --optimizer adamw --scheduler cosine --warmup-epochs 2`,
      `npm run ${name} -- --augment trivialaugment --label-smoothing 0.1 --mixup 0.2 --cutmix 1.0 --random-erase 0.1`,
      ...(mode === "finetune" ? [] : [`npm run ${name} -- --cache-features`]),
      `npm run ${name} -- --nproc-per-node 2 --device cpu`,
    ],
  };
}

export async function trainCommand(mode: Mode, argv: string[]): Promise<number> {
  const command = mode === "finetune" ? "finetune" : "feature-extract";
  const spec = commandSpec(mode);
  const { values: flags, help } = parseCommand(spec, argv);
  if (help) {
    process.stdout.write(helpText(spec));
    return 0;
  }
  const resumeDir = flags.resume;
  const { resumed, previous } = resumeDir ? await resumeFrom(command, resumeDir) : { resumed: null, previous: undefined };
  if (previous && previous.mode !== mode) throw new UsageError(`${resumeDir} holds a ${previous.mode} run, not ${mode}`);

  const optimizerName = choiceFlag(flags.optimizer, "optimizer", OPTIMIZERS, previous?.optimizer ?? "sgd");
  const settings: RunSettings & RecipeSettings = {
    mode,
    arch: flags.arch ?? previous?.arch ?? "resnet18",
    data: path.resolve(flags.data ?? previous?.data ?? path.join(ROOT, "data", "hymenoptera_data")),
    epochs: intFlag(flags.epochs, "epochs", previous?.epochs ?? 25),
    batchSize: intFlag(flags["batch-size"], "batch-size", previous?.batchSize ?? 4),
    lr: numberFlag(flags.lr, "lr", previous?.lr ?? 0.001, { min: 0, exclusiveMin: true }),
    momentum: numberFlag(flags.momentum, "momentum", previous?.momentum ?? 0.9, { min: 0 }),
    stepSize: intFlag(flags["step-size"], "step-size", previous?.stepSize ?? 7),
    gamma: numberFlag(flags.gamma, "gamma", previous?.gamma ?? 0.1, { min: 0, exclusiveMin: true }),
    optimizer: optimizerName,
    scheduler: choiceFlag(flags.scheduler, "scheduler", SCHEDULERS, previous?.scheduler ?? "step"),
    warmupEpochs: intFlag(flags["warmup-epochs"], "warmup-epochs", previous?.warmupEpochs ?? 0, 0),
    weightDecay: numberFlag(flags["weight-decay"], "weight-decay", previous?.weightDecay ?? defaultWeightDecay(optimizerName), { min: 0 }),
    augment: choiceFlag(flags.augment, "augment", AUGMENTS, previous?.augment ?? "tutorial"),
    mixup: numberFlag(flags.mixup, "mixup", previous?.mixup ?? 0, { min: 0 }),
    cutmix: numberFlag(flags.cutmix, "cutmix", previous?.cutmix ?? 0, { min: 0 }),
    labelSmoothing: fractionFlag(flags["label-smoothing"], "label-smoothing", previous?.labelSmoothing ?? 0),
    randomErase: fractionFlag(flags["random-erase"], "random-erase", previous?.randomErase ?? 0),
    weights: flags.weights ?? previous?.weights ?? "imagenet",
    seed: intFlag(flags.seed, "seed", previous?.seed ?? 0, 0),
    device: flags.device ?? previous?.device ?? defaultDevice(),
    ...dataSettings(flags, previous),
    earlyStop: intFlag(flags["early-stop"], "early-stop", previous?.earlyStop ?? 0, 0),
    freezeEpochs: intFlag(flags["freeze-epochs"], "freeze-epochs", previous?.freezeEpochs ?? 0, 0),
    backboneLrMult: numberFlag(flags["backbone-lr-mult"], "backbone-lr-mult", previous?.backboneLrMult ?? 0.01, { min: 0, exclusiveMin: true }),
    ...(flags.amp || previous?.amp ? { amp: true } : {}),
  };
  checkFreezeFlags(settings, mode);
  // --cache-features trains the head once on features of the val transform: nothing is augmented or mixed.
  const augmentFlags = (["augment", "mixup", "cutmix", "random-erase"] as const).filter((f) => flags[f] !== undefined);
  if (flags["cache-features"] && settings.amp) throw new UsageError("--cache-features trains the head on cached float32 features; drop --amp");
  if (flags["cache-features"] && augmentFlags.length) throw new UsageError(`--cache-features trains on cached, unaugmented features; drop --${augmentFlags.join(", --")}`);
  if (settings.warmupEpochs >= settings.epochs) throw new UsageError(`--warmup-epochs must be below --epochs (${settings.epochs}), got ${settings.warmupEpochs}`);
  deviceFlag(settings.device);
  if (flags["channels-last"] && flags["no-channels-last"]) throw new UsageError("--channels-last and --no-channels-last contradict each other; give one");
  // --amp: what it means on this device (a CPU without fast bfloat16 runs float32).
  const amp = settings.amp ? ampPlan(settings.device) : null;
  // bfloat16 on a CPU pays with oneDNN's channels-last kernels (a fine-tune
  // epoch 1.09x faster than bfloat16 in NCHW, README), so --amp there lays the
  // model out channels-last unless told not to; a resumed run keeps its layout.
  const channelsLast = flags["no-channels-last"] ? false : !!(flags["channels-last"] || previous?.channelsLast || amp?.native?.device === "cpu");
  if (channelsLast) settings.channelsLast = true;
  const workers = intFlag(flags.workers, "workers", Math.max(2, require("os").availableParallelism()));
  if (!listModels().includes(settings.arch)) throw new UsageError(`--arch: unknown architecture ${settings.arch} (one of ${listModels().join(", ")})`);
  if (previous && (previous.arch ?? "resnet18") !== settings.arch) throw new UsageError(`${resumeDir} holds a ${previous.arch} run, not ${settings.arch}`);
  const weights = settings.weights === "none" ? null : settings.weights;
  const named = weights === null ? null : weights.toLowerCase() === "imagenet" ? "DEFAULT" : /^(DEFAULT|IMAGENET1K_[A-Z0-9_]+)$/.test(weights) ? weights : null;
  if (named) {
    const known = getModelWeights(settings.arch);
    if (!(named in known)) {
      throw new UsageError(`--weights: ${settings.arch} has no ${named} weights (it has DEFAULT, ${known.members().map((w) => w.name).join(", ")})`);
    }
  } else if (weights !== null && !fs.existsSync(weights)) {
    throw new UsageError(`--weights: ${weights} does not exist (use DEFAULT, IMAGENET1K_V1, IMAGENET1K_V2, none or a weights file)`);
  }
  // What a name means for this architecture: "imagenet" and DEFAULT are its DEFAULT (IMAGENET1K_V2 for resnet50).
  const namedWeight = named ? (getModelWeights(settings.arch).members().find((w) => w.name === named) ?? getModelWeights(settings.arch).DEFAULT).name : null;
  // Decided once: a resumed run keeps what it trained with (the tutorial's, for runs from before this was recorded).
  settings.preprocessing = previous ? savedPreprocessing(previous) : preprocessingFor(settings.arch, weights);
  const out = path.resolve(resumeDir ?? flags.out ?? path.join(ROOT, "runs", command));
  if (!resumeDir) {
    const held = await runFolderState(out);
    if (held === "kept") throw new UsageError(`${out} already holds a model; choose another --out, or continue it with --resume ${out}`);
    if (held === "no-epoch") {
      process.stderr.write(`${command}: ${out} holds no whole epoch (an earlier run stopped in its first); starting afresh there\n`);
      fs.rmSync(path.join(out, CHECKPOINT_FILE), { force: true });
    }
  }

  if (flags.data !== undefined && !fs.existsSync(settings.data)) throw new UsageError(`--data: ${settings.data} does not exist`);
  if (!fs.existsSync(settings.data) && flags.data === undefined && !previous) {
    const { fetchData } = await import("../hub");
    process.stderr.write(`${command}: ${settings.data} is missing; fetching the tutorial's data set\n`);
    await fetchData({ dest: path.dirname(settings.data) });
  }
  const world = worldFromEnv();
  const nproc = intFlag(flags["nproc-per-node"], "nproc-per-node", 1);
  if (!world && (nproc > 1 || flags.nnodes !== undefined)) {
    if (flags["cache-features"]) throw new UsageError("--cache-features runs in one process; drop --nproc-per-node");
    if (settings.device !== "cpu") {
      // Each worker takes the GPU of its LOCAL_RANK (cuda:0, cuda:1, ...), as torchrun scripts do, and NCCL between them.
      const { isNcclAvailable } = await import("../distributed");
      if (!isNcclAvailable()) throw new UsageError(`data-parallel training on ${settings.device} needs NCCL, and this build has none (a CUDA libtorch with libnccl-dev); use --device cpu (Gloo)`);
      const gpus = cuda.deviceCount();
      if (nproc > gpus) throw new UsageError(`--nproc-per-node ${nproc} on ${settings.device} needs one GPU per worker, and this machine has ${gpus}`);
    }
    const nnodes = intFlag(flags.nnodes, "nnodes", 1);
    const nodeRank = intFlag(flags["node-rank"], "node-rank", 0, 0);
    if (nodeRank >= nnodes) throw new UsageError(`--node-rank must be below --nnodes (${nnodes}), got ${nodeRank}`);
    if (nnodes > 1 && !flags["master-addr"]) throw new UsageError("--nnodes above 1 needs --master-addr (rank 0's host)");
    const masterPort = intFlag(flags["master-port"], "master-port", 29500, 1);
    const { launchWorkers } = await import("./launch");
    const workerArgs = stripFlags(argv, ["nproc-per-node", "nnodes", "node-rank", "master-addr", "master-port"]);
    if (!workerArgs.some((a) => a === "--data" || a.startsWith("--data="))) workerArgs.push("--data", settings.data);
    return launchWorkers(process.argv[1], workerArgs, { nprocPerNode: nproc, nnodes, nodeRank, masterAddr: flags["master-addr"] ?? "127.0.0.1", masterPort });
  }
  const lead = !world || world.rank === 0; // only rank 0 prints and writes
  // A data-parallel worker on CUDA trains on its own GPU: cuda:LOCAL_RANK.
  if (world && settings.device.startsWith("cuda")) settings.device = `cuda:${Number(process.env.LOCAL_RANK ?? 0)}`;
  if (world && flags["cache-features"]) throw new UsageError("--cache-features runs in one process");

  // --seed seeds every stream: libtorch's (weight init) and the transforms' default generator.
  manualSeed(settings.seed);
  setTransformSeed(settings.seed);
  const skipBad = !!flags["skip-bad-images"];
  const loadData = (isValidFile?: (file: string) => boolean) => dataOrUsageError(() =>
    runData({
      dir: settings.data, valSplit: settings.valSplit, labels: settings.labels, splitFile: resumeDir ? path.join(out, SPLIT_FILE) : undefined,
      batchSize: settings.batchSize, numWorkers: workers, seed: settings.seed, onError: skipBad ? "skip" : "raise", isValidFile,
      pinMemory: settings.device.startsWith("cuda"),
      augment: { augment: settings.augment, randomErase: settings.randomErase }, preprocessing: settings.preprocessing,
    }),
  );
  let data = loadData();
  // Every rank checks (and so leaves out the same files); rank 0 alone says so.
  const bad = flags["verify-images"] || skipBad ? await verifyImages(command, data.sources, workers, skipBad, lead) : [];
  if (bad.length) {
    const leftOut = new Set(bad);
    data = loadData((file) => hasImageExtension(file) && !leftOut.has(file));
  }
  const { dataloaders: localLoaders, datasets, classNames } = data;
  if (resumed && resumed.state.classes.join("\n") !== classNames.join("\n")) {
    throw new UsageError(`${resumeDir} was trained on classes [${resumed.state.classes.join(", ")}], but ${settings.data} has [${classNames.join(", ")}]`);
  }

  const lossWeight = classWeightsFor(settings.classWeights, data.trainTargets, classNames);
  if (lossWeight) settings.lossWeight = lossWeight;
  // The one loss both training paths use.
  const criterion = new CrossEntropyLoss({
    ...(lossWeight ? { weight: tensor(Float32Array.from(lossWeight), [lossWeight.length]) } : {}),
    labelSmoothing: settings.labelSmoothing,
  });

  const { model, trainable } = await tutorialModel(mode, classNames.length, resumed ? null : weights, settings.arch);
  const unmixed = world ? shardedLoaders(datasets, world, settings.batchSize, workers, settings.seed, resumed ? resumed.state.epoch + 1 : 0, settings.device.startsWith("cuda")) : localLoaders;
  // --mixup, --cutmix: the training batches go through them, as the references' collate_fn does; each rank mixes with its own stream.
  const mixing = batchMixing(classNames.length, settings.mixup ?? 0, settings.cutmix ?? 0);
  const dataloaders = mixing
    ? { ...unmixed, train: new MixedBatches(unmixed.train, mixing, settings.seed + (world?.rank ?? 0), resumed ? resumed.state.epoch + 1 : 0) }
    : unmixed;
  model.to(settings.device, settings.channelsLast ? { memoryFormat: "channels_last" } : {});
  if (world && settings.freezeEpochs) throw new UsageError("--freeze-epochs runs in one process; drop --nproc-per-node");
  const startEpoch = resumed ? resumed.state.epoch + 1 : 0;
  let optimizer = recipeOptimizer(settings, trainable);
  let scheduler = recipeScheduler(settings, optimizer, dataloaders.train.length);
  // --freeze-epochs: each phase its own optimizer and schedule (lib/train/fineTune.ts).
  const phaseAt = (epoch: number) => fineTunePhase(settings, model, phaseOf(settings, epoch), dataloaders.train.length);
  if (settings.freezeEpochs) ({ optimizer, scheduler } = phaseAt(startEpoch));
  // A checkpoint from the other phase holds the other phase's optimizer: the new phase starts afresh.
  const samePhase = !settings.freezeEpochs || !resumed || phaseOf(settings, resumed.state.epoch) === phaseOf(settings, startEpoch);
  // One process: the loaders' generators go into the checkpoint. Data-parallel
  // ranks reseed theirs each epoch instead (see shardedLoaders), since only rank 0 writes.
  const rngLoaders = world ? {} : localLoaders;
  if (resumed) {
    model.loadStateDict(resumed.model);
    if (samePhase) {
      optimizer.loadStateDict(checkpointOptimizerState(resumed, optimizer));
      scheduler.loadStateDict(resumed.state.scheduler as LRSchedulerState);
    }
    if (resumed.state.rng) restoreRng(resumed.state.rng, rngLoaders);
  }

  // Every rank starts from rank 0's weights (DistributedDataParallel broadcasts them).
  // --amp's fallback, said once.
  if (amp?.fellBack && lead) process.stderr.write(`${command}: ${amp.description}\n`);
  if (amp?.scaler && resumed?.state.gradScaler) amp.scaler.loadStateDict(resumed.state.gradScaler);
  const timeoutMs = intFlag(flags["dist-timeout"], "dist-timeout", 1800) * 1000;
  const group = world ? await (await import("../distributed")).initProcessGroup({ device: settings.device, timeoutMs }) : null;
  const trained = group ? new (await import("../distributed")).DistributedDataParallel(model, group) : model;

  if (lead) fs.mkdirSync(out, { recursive: true });
  if (lead && data.split) await writeSplit(path.join(out, SPLIT_FILE), data.split);
  if (lead && !flags.json) {
    process.stdout.write(
      header({
        command, settings, out, classNames, trainImages: datasets.train.length, valImages: datasets.val.length,
        amp: amp?.description,
        weights: resumed ? `resumed from ${resumeDir}` : weights === null ? "none (random initialisation)" : namedWeight ? `torchvision's ImageNet (${namedWeight})` : weights,
        worldSize: world?.size ?? 1,
      }),
    );
  }
  const meta = { classes: classNames, settings: world ? { ...settings, worldSize: world.size } : settings };
  const report = (r: EpochRecord) => {
    if (!lead) return;
    const line = { epoch: r.epoch, phase: r.phase, loss: round(r.loss), acc: round(r.acc), seconds: round(r.seconds, 2), images: r.images };
    process.stdout.write(flags.json ? JSON.stringify(line) + "\n" : `epoch ${r.epoch + 1}/${settings.epochs} ${r.phase.padEnd(5)} loss ${r.loss.toFixed(4)} acc ${r.acc.toFixed(4)} (${r.seconds.toFixed(1)} s)\n`);
  };
  const finish = async (bestAcc: number, history: EpochRecord[], started: number, stoppedEarly?: { epoch: number }) => {
    const seconds = (Date.now() - started) / 1000;
    group?.dispose();
    if (!lead) return;
    if (!flags["no-report"]) {
      const { writeReport } = await import("../viz");
      await writeReport({ outDir: out, settings: { ...meta.settings, bestValAcc: bestAcc, ...(stoppedEarly ? { stoppedEarlyAfterEpoch: stoppedEarly.epoch } : {}) }, history, classNames, model, valLoader: localLoaders.val, device: settings.device });
    }
    const checkpoint = path.join(out, MODEL_FILE);
    const skipped = bad.length + data.sources.reduce((n, d) => n + d.skippedFiles.length, 0);
    if (skipped) process.stderr.write(`${command}: skipped ${skipped} image(s) that cannot be decoded (each named above)\n`);
    if (flags.json) {
      const line = { bestValAcc: bestAcc, seconds: round(seconds, 2), checkpoint, ...(skipBad ? { skippedImages: skipped } : {}) };
      process.stdout.write(JSON.stringify(line) + "\n");
    } else {
      process.stdout.write(`Training complete in ${Math.floor(seconds / 60)}m ${Math.round(seconds % 60)}s\nBest val Acc: ${bestAcc.toFixed(4)}\nSaved ${checkpoint}\n`);
      if (!flags["no-report"]) process.stdout.write(`Report: ${path.join(out, "report.html")}\n`);
    }
  };
  if (flags["cache-features"]) {
    if (mode !== "feature-extract") throw new UsageError("--cache-features is for feature-extract only");
    if (resumed) throw new UsageError("--cache-features runs cannot be resumed (they take seconds)");
    const started = Date.now();
    const probeSets = { train: data.trainForFeatures, val: datasets.val };
    const cached = {
      train: await extractFeatures(model, probeSets.train, { numWorkers: workers, device: settings.device }),
      val: await extractFeatures(model, probeSets.val, { numWorkers: workers, device: settings.device }),
    };
    const { bestAcc, history } = await trainLinearProbe(getHead(model), criterion, optimizer, scheduler, cached, {
      numEpochs: settings.epochs, batchSize: settings.batchSize, seed: settings.seed, onEpoch: report,
    });
    const { save } = await import("../serialization");
    await save(model.stateDict(), path.join(out, MODEL_FILE), { ...modelMetadata({ ...meta, bestValAcc: bestAcc }), method: "cache-features" });
    await writeJsonAtomic(path.join(out, HISTORY_FILE), history);
    await finish(bestAcc, history, started);
    return 0;
  }
  const sizes = { train: datasets.train.length, val: datasets.val.length };
  let bar: PhaseProgress | null = null;
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${command}: stopping after this batch (Ctrl-C again to quit at once)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  const started = Date.now();
  let lastSaved = resumed ? resumed.state.epoch : -1;
  // An epoch's val line is printed once its checkpoint is on disk: whoever sees it may stop the run.
  let valRecord: EpochRecord | null = null;
  try {
    const result = await trainModel(trained, criterion, optimizer, scheduler, {
      dataloaders,
      numEpochs: settings.epochs,
      device: settings.device,
      // Other ranks keep their copy of the best weights in a scratch folder.
      bestPath: lead ? path.join(out, MODEL_FILE) : undefined,
      bestMetadata: modelMetadata(meta),
      signal: controller.signal,
      earlyStopping: settings.earlyStop ? { patience: settings.earlyStop } : undefined,
      ...(amp ? { amp, ...(amp.scaler ? { gradScaler: amp.scaler } : {}) } : {}),
      beforeEpoch: (epoch) => {
        if (!settings.freezeEpochs || epoch !== settings.freezeEpochs || epoch === startEpoch) return;
        ({ optimizer, scheduler } = phaseAt(epoch));
        return { optimizer, scheduler };
      },
      resume: resumed
        ? { startEpoch: resumed.state.epoch + 1, bestAcc: resumed.state.bestAcc, bestWeights: resumed.best, history: resumed.state.history }
        : undefined,
      onBatch: ({ epoch, phase, images, loss }) => {
        if (flags.json || !lead) return;
        if (!bar) bar = phaseProgress(`epoch ${epoch + 1}/${settings.epochs} ${phase}`, sizes[phase]);
        bar.update(images, loss);
      },
      onEpoch: (r) => {
        bar?.stop();
        bar = null;
        if (r.phase === "val") valRecord = r;
        else report(r);
      },
      onEpochEnd: async (state) => {
        if (!lead) return;
        const rng = captureRng(rngLoaders);
        await saveCheckpoint(out, { epoch: state.epoch, bestAcc: state.bestAcc, history: state.history, scheduler: scheduler.stateDict(), ...meta, rng, ...(amp?.scaler ? { gradScaler: amp.scaler.stateDict() } : {}) }, model.stateDict(), state.bestWeights, optimizer);
        await writeJsonAtomic(path.join(out, HISTORY_FILE), state.history);
        lastSaved = state.epoch;
        if (valRecord) report(valRecord);
        valRecord = null;
      },
    });
    if (result.stoppedEarly && lead) {
      const { epoch, epochsWithoutImprovement } = result.stoppedEarly;
      const line = `stopped early after epoch ${epoch + 1} of ${settings.epochs}: no better val accuracy for ${epochsWithoutImprovement} epoch(s)`;
      process.stdout.write(flags.json ? JSON.stringify({ stoppedEarly: { epoch, epochsWithoutImprovement } }) + "\n" : line + "\n");
    }
    await finish(result.bestAcc, result.history, started, result.stoppedEarly);
    return 0;
  } catch (err) {
    if (!(err instanceof TrainingInterrupted)) throw err;
    (bar as PhaseProgress | null)?.stop();
    if (!lead) return 130;
    if (lastSaved < 0) {
      // No epoch finished: save the starting point, so --resume still has something to continue.
      const initial = cloneStateDict(model.stateDict());
      try {
        await saveCheckpoint(out, { epoch: -1, bestAcc: 0, history: [], scheduler: scheduler.stateDict(), ...meta }, initial, initial, optimizer);
      } finally {
        disposeStateDict(initial);
      }
    }
    process.stderr.write(
      `${command}: interrupted in epoch ${err.epoch + 1} of ${settings.epochs}; ${path.join(out, CHECKPOINT_FILE)} holds ` +
        `${lastSaved < 0 ? "the starting weights" : `the state after epoch ${lastSaved + 1}`}.\n` +
        `Resume with: npm run ${command} -- --resume ${out}\n`,
    );
    return 130;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** --val-split, --labels and --class-weights, or the resumed run's; a resumed split cannot change. */
function dataSettings(flags: { "val-split"?: string; labels?: string; "class-weights"?: string }, previous: RunSettings | undefined): Partial<RunSettings> {
  const valSplit = flags["val-split"] === undefined ? previous?.valSplit : numberFlag(flags["val-split"], "val-split", 0, { min: 0, exclusiveMin: true });
  if (valSplit !== undefined && valSplit >= 1) throw new UsageError(`--val-split expects a share below 1 (0.2 holds out 20% of each class), got "${flags["val-split"]}"`);
  const labels = flags.labels === undefined ? previous?.labels : path.resolve(flags.labels);
  if (flags.labels !== undefined && !fs.existsSync(flags.labels)) throw new UsageError(`--labels: ${flags.labels} does not exist`);
  if (previous && (valSplit !== previous.valSplit || labels !== previous.labels)) {
    throw new UsageError(`--val-split and --labels cannot change when resuming: the run was made with ${previous.labels ? `--labels ${previous.labels}` : "no --labels"} and ${previous.valSplit !== undefined ? `--val-split ${previous.valSplit}` : "no --val-split"}`);
  }
  const classWeights = flags["class-weights"] ?? previous?.classWeights;
  return { ...(valSplit !== undefined ? { valSplit } : {}), ...(labels !== undefined ? { labels } : {}), ...(classWeights !== undefined ? { classWeights } : {}) };
}

function choiceFlag<T extends string>(value: string | undefined, name: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) throw new UsageError(`--${name} expects one of ${choices.join(", ")}, got "${value}"`);
  return value as T;
}

/** Structural problems with the data folder (no val/, no classes, classes that differ) are usage errors. */
function dataOrUsageError<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

interface HeaderInfo {
  command: string;
  settings: RunSettings;
  out: string;
  classNames: string[];
  trainImages: number;
  valImages: number;
  weights: string;
  worldSize: number;
  amp?: string;
}

/** What a run is about to do, printed before the first batch. */
function header(h: HeaderInfo): string {
  const s = h.settings;
  const rows: [string, string][] = [
    ["data", `${s.data} (train ${h.trainImages} images, val ${h.valImages} images)`],
    ["classes", `${h.classNames.length}: ${h.classNames.join(", ")}`],
    ["device", `${s.device}, ${getNumThreads()} threads${h.worldSize > 1 ? ` per process, ${h.worldSize} processes` : ""}, libtorch ${libtorchVersion()}`],
    ["model", `${s.arch}, ${h.command === "finetune" ? "every layer trained" : "frozen but for a new head"}${s.channelsLast ? ", channels_last" : ""}`],
    ["weights", h.weights],
    ...(h.amp ? [["amp", h.amp] as [string, string]] : []),
    // Only when it differs from the tutorial's Resize(256), CenterCrop(224), bilinear.
    ...(s.preprocessing && !isTutorialPreprocessing(s.preprocessing) ? [["inputs", describePreprocessing(s.preprocessing)] as [string, string]] : []),
    ["training", `${s.epochs} epoch${s.epochs === 1 ? "" : "s"}, batch ${s.batchSize}, ${describeRecipe(s as RunSettings & RecipeSettings)}`],
    // Only when it differs from the tutorial's crop and flip.
    ...((s.augment && s.augment !== "tutorial") || s.randomErase || s.mixup || s.cutmix || s.labelSmoothing ? [["augment", describeAugment(s)] as [string, string]] : []),
    ...(s.lossWeight ? [["loss", `CrossEntropyLoss(weight=[${s.lossWeight.map((w) => Number(w.toPrecision(4))).join(", ")}]) (--class-weights ${s.classWeights})`] as [string, string]] : []),
    ["out", h.out],
  ];
  return rows.map(([k, v]) => `${k.padEnd(9)}${v}`).join("\n") + "\n";
}

function isTutorialPreprocessing(p: Preprocessing): boolean {
  return JSON.stringify(p) === JSON.stringify(TUTORIAL_PREPROCESSING);
}

function describePreprocessing(p: Preprocessing): string {
  return `Resize(${p.resize}, ${p.interpolation}), CenterCrop(${p.crop}); training crops ${p.crop}`;
}

/** A number in [0, 1]: a probability or the label smoothing. */
function fractionFlag(value: string | undefined, name: string, fallback: number): number {
  const n = numberFlag(value, name, fallback, { min: 0 });
  if (n > 1) throw new UsageError(`--${name} expects a number in [0, 1], got "${value}"`);
  return n;
}

/** The augmentation and loss options of a run, in a line. */
function describeAugment(s: RunSettings): string {
  const parts = [s.augment === "trivialaugment" ? "crop, flip, TrivialAugmentWide" : s.augment === "randaugment" ? "crop, flip, RandAugment" : "crop, flip"];
  if (s.randomErase) parts.push(`RandomErasing(p ${s.randomErase})`);
  if (s.mixup) parts.push(`MixUp(alpha ${s.mixup})`);
  if (s.cutmix) parts.push(`CutMix(alpha ${s.cutmix})`);
  if (s.labelSmoothing) parts.push(`label smoothing ${s.labelSmoothing}`);
  return parts.join(", ");
}

function round(x: number, digits = 4): number {
  return Number(x.toFixed(digits));
}

interface World {
  rank: number;
  size: number;
}

/**
 * What --resume DIR continues: its checkpoint; or, when DIR holds no whole
 * epoch and no checkpoint (a run that died in its first epoch), its run from
 * the start, with the settings saved beside its starting weights.
 */
async function resumeFrom(command: string, dir: string) {
  if (fs.existsSync(path.join(dir, CHECKPOINT_FILE)) || (await runFolderState(dir)) !== "no-epoch") {
    const resumed = await loadCheckpoint(dir).catch((err: Error) => {
      throw new UsageError(err.message);
    });
    return { resumed, previous: resumed.state.settings };
  }
  const { loadSafetensorsMetadata } = await import("../serialization");
  const file = path.join(dir, MODEL_FILE);
  const meta = parseModelMetadata(file, await loadSafetensorsMetadata(file));
  if (!meta.settings?.mode) throw new UsageError(`${file} does not record the settings it was trained with; start a new run with --out`);
  process.stderr.write(`${command}: ${dir} holds no whole epoch (its run stopped in the first); running it from the start\n`);
  return { resumed: null, previous: meta.settings as RunSettings };
}

/**
 * Decodes every image once before training and lists all that fail. Without
 * skipBad any failure stops the run; with it, the files to leave out.
 */
async function verifyImages(command: string, sets: LabelledImages<unknown>[], workers: number, skipBad: boolean, lead: boolean): Promise<string[]> {
  // A split's train and val views list the same files: each is decoded once.
  const files = [...new Set(sets.flatMap((d) => d.samples.map(([f]) => f)))];
  const bad = await checkImages(files, { concurrency: workers });
  if (lead) for (const b of bad) process.stderr.write(`${command}: ${b.file}: ${b.reason}\n`);
  if (bad.length === 0) return [];
  if (!skipBad) throw new Error(`${bad.length} of ${files.length} images cannot be decoded (listed above); remove them, or pass --skip-bad-images`);
  if (lead) process.stderr.write(`${command}: skipping ${bad.length} of ${files.length} images, which cannot be decoded\n`);
  return bad.map((b) => b.file);
}

/** Set when this process is one worker of several (torchrun's environment). */
function worldFromEnv(): World | null {
  const size = Number(process.env.WORLD_SIZE ?? "1");
  if (!Number.isInteger(size) || size <= 1) return null;
  const rank = Number(process.env.RANK ?? "");
  if (!Number.isInteger(rank) || rank < 0 || rank >= size) throw new UsageError(`RANK must be an integer in [0, ${size - 1}] when WORLD_SIZE is ${size}, got "${process.env.RANK}"`);
  return { rank, size };
}

/** argv without the launcher's own flags, for the workers. */
function stripFlags(argv: string[], names: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, "").split("=")[0];
    if (argv[i].startsWith("--") && names.includes(name)) {
      if (!argv[i].includes("=")) i++;
      continue;
    }
    out.push(argv[i]);
  }
  return out;
}

/**
 * Each rank's loaders: training through PyTorch's DistributedSampler (its
 * shuffle, re-seeded every epoch), validation through disjoint shards so the
 * summed figures are those of the whole set.
 */
function shardedLoaders(datasets: { train: Dataset; val: Dataset }, world: World, batchSize: number, numWorkers: number, seed: number, startEpoch: number, pinMemory = false) {
  const trainSampler = new DistributedSampler(datasets.train.length, { numReplicas: world.size, rank: world.rank, shuffle: true, seed });
  const train = new DataLoader(datasets.train, { batchSize, sampler: trainSampler, numWorkers, seed: seed + world.rank, pinMemory });
  const val = new DataLoader(datasets.val, { batchSize, sampler: new ShardSampler(datasets.val.length, { numReplicas: world.size, rank: world.rank }), numWorkers, pinMemory });
  let epoch = startEpoch;
  return {
    train: {
      get length() {
        return train.length;
      },
      [Symbol.asyncIterator]() {
        trainSampler.setEpoch(epoch);
        // Each (rank, epoch) its own transform stream, a function of the epoch
        // alone, so that a resumed run draws what the uninterrupted one did.
        train.generator.manualSeed(seed + world.rank + epoch * world.size);
        epoch++;
        return train[Symbol.asyncIterator]();
      },
    },
    val,
  };
}
