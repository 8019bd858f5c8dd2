using Backprop;
using Backprop.Keras;
using Backprop.Vision;

namespace KerasShapes;

/// <summary>What <see cref="ShapesTraining.Train"/> gives back.</summary>
/// <param name="Model">The trained model.</param>
/// <param name="History">Loss and accuracy per epoch, training and validation.</param>
/// <param name="Training">The training images as loaded.</param>
/// <param name="Validation">The validation images as loaded.</param>
public sealed record ShapesResult(Sequential Model, History History, ImageFolderDataset Training, ImageFolderDataset Validation)
{
    /// <summary>Accuracy on the validation images after the last epoch.</summary>
    public double ValidationAccuracy => History.ValAccuracy[^1];
}

/// <summary>
/// The Keras tutorial's model on images from folders:
/// <code>
/// Conv2D(32, (3, 3), input_shape = (64, 64, 3), activation = 'relu') → MaxPooling2D((2, 2)) → Flatten → Dense(1, 'sigmoid')
/// </code>
/// trained with adam and binary cross-entropy on the class folders under a directory, 20% held out for validation.
/// </summary>
public static class ShapesTraining
{
    /// <param name="directory">The class folders (as <see cref="ShapeImages.Write"/> writes them).</param>
    /// <param name="imageSize">Side the images are resized to; the tutorial's is 64.</param>
    /// <param name="epochs">Passes over the training images.</param>
    /// <param name="seed">Seeds the split, the weights and the batch order: the same seed repeats the run.</param>
    /// <param name="batchSize">Images per training step (Keras's default 32).</param>
    /// <param name="progress">Keras-style progress records (<see cref="KerasProgressFormatter.ToWriter"/> prints them).</param>
    /// <param name="summary">Receives the model's <see cref="Sequential.Summary"/> before training.</param>
    public static ShapesResult Train(string directory, int imageSize = 64, int epochs = 10, ulong seed = 1, int batchSize = 32,
        IProgress<EpochProgress>? progress = null, Action<string>? summary = null)
    {
        // Keras: image_dataset_from_directory(directory, validation_split=0.2, subset="both", seed=seed, image_size=(64, 64))
        var (training, validation) = ImageFolder.LoadSplit(directory, (imageSize, imageSize),
            new ImageFolderOptions { ValidationSplit = 0.2, Seed = seed });

        var model = new Sequential(seed,
            new Conv2D(32, (3, 3), inputShape: (imageSize, imageSize, 3), activation: "relu"),
            new MaxPooling2D((2, 2)),
            new Flatten(),
            new Dense(1, activation: "sigmoid"));
        summary?.Invoke(model.Summary(print: false));
        model.Compile("adam", "binary_crossentropy", ["accuracy"]);

        // Rescaling(1/255) as the tutorial does, here on the whole tensors; labels 0 (circles) and 1 (squares).
        var history = model.Fit(Scale(training.Images), training.LabelTensor(), batchSize: batchSize, epochs: epochs,
            validationData: (Scale(validation.Images), validation.LabelTensor()), progress: progress);
        return new ShapesResult(model, history, training, validation);
    }

    private static Tensor Scale(Tensor images) => images * (1f / 255);
}
