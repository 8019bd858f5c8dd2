using Backprop.Caffe.Proto;
using Backprop.Caffe.TextFormat;

namespace Backprop.Tests.Caffe;

public class PrototxtErrorTests
{
    private static PrototxtException Fails<T>(string text, int line, int column, string detail)
        where T : Google.Protobuf.IMessage<T>, new()
    {
        var error = Assert.Throws<PrototxtException>(() => Prototxt.Parse<T>(text, "net.prototxt"));
        Assert.Equal(detail, error.Detail);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Equal("net.prototxt", error.FileName);
        Assert.Equal($"net.prototxt:{line}:{column}: {detail}", error.Message);
        Assert.IsAssignableFrom<FormatException>(error);
        return error;
    }

    [Fact]
    public void BadNumberNamesTheFileLineColumnFieldAndType()
    {
        const string solver = "net: \"lenet.prototxt\"\ntest_iter: 100\nbase_lr: abc\n";
        var error = Assert.Throws<PrototxtException>(() => Prototxt.Parse<SolverParameter>(solver, "lenet_solver.prototxt"));
        Assert.Equal("lenet_solver.prototxt:3:10: expected a number for field 'base_lr' (float), found 'abc'", error.Message);
    }

    [Fact]
    public void DefaultFileNameIsString()
    {
        var error = Assert.Throws<PrototxtException>(() => Prototxt.Parse<NetParameter>("nme: 1"));
        Assert.Equal("<string>", error.FileName);
        Assert.StartsWith("<string>:1:1: ", error.Message);
    }

    [Fact]
    public void UnknownField() =>
        Fails<NetParameter>("name: \"x\"\nlayer {\n  nmae: \"conv\"\n}\n", 3, 3,
            "unknown field 'nmae' in caffe.LayerParameter; did you mean 'name'?");

    [Fact]
    public void UnknownFieldWithNothingClose() =>
        Fails<NetParameter>("layer {\n  colour: 1\n}", 2, 3, "unknown field 'colour' in caffe.LayerParameter");

    [Fact]
    public void BadEnumName() =>
        Fails<NetParameter>("layer {\n  pooling_param { pool: MAXX }\n}", 2, 25,
            "unknown value 'MAXX' for field 'pool' (caffe.PoolingParameter.PoolMethod); expected one of MAX, AVE, STOCHASTIC");

    [Fact]
    public void BadEnumNumber() =>
        Fails<NetStateRule>("phase: 7", 1, 8, "unknown value '7' for field 'phase' (caffe.Phase); expected one of TRAIN, TEST");

    [Fact]
    public void EnumNameIsCaseSensitive() =>
        Fails<SolverParameter>("solver_mode: cpu", 1, 14,
            "unknown value 'cpu' for field 'solver_mode' (caffe.SolverParameter.SolverMode); expected one of CPU, GPU");

    [Fact]
    public void UnterminatedString() =>
        Fails<NetParameter>("layer {\n  name: \"conv1\n  type: \"Convolution\"\n}", 2, 9,
            "unterminated string (no closing \" on this line)");

    [Fact]
    public void UnterminatedStringAtEndOfFile() =>
        Fails<NetParameter>("name: 'LeNet", 1, 7, "unterminated string (no closing ' on this line)");

    [Fact]
    public void UnknownEscape() =>
        Fails<NetParameter>("name: \"a\\qb\"", 1, 9, "unknown escape '\\q' in string");

    [Fact]
    public void ExtraClosingBrace() =>
        Fails<NetParameter>("layer {\n  name: \"a\"\n}\n}\n", 4, 1, "unmatched '}': no block is open here");

    [Fact]
    public void MismatchedClosingBracket() =>
        Fails<NetParameter>("layer <\n  name: \"a\"\n}", 3, 1, "expected '>' to close 'layer' (opened at 1:1), found '}'");

    [Fact]
    public void EndOfFileInsideMessage() =>
        Fails<NetParameter>("name: \"x\"\nlayer {\n  name: \"a\"\n  convolution_param {\n    num_output: 2\n  }\n", 7, 1,
            "end of file inside 'layer' (opened at 2:1); expected '}'");

    [Fact]
    public void EndOfFileInsideNestedMessageNamesTheInnermost() =>
        Fails<NetParameter>("layer { convolution_param { num_output: 2", 1, 42,
            "end of file inside 'convolution_param' (opened at 1:9); expected '}'");

    [Fact]
    public void MissingValueBeforeClosingBrace() =>
        Fails<NetParameter>("layer { name: }", 1, 15, "missing value for field 'name' (string), found '}'");

    [Fact]
    public void MissingValueAtEndOfFile() =>
        Fails<SolverParameter>("snapshot_prefix:", 1, 17, "missing value for field 'snapshot_prefix' (string), found end of file");

    [Fact]
    public void MissingValueBeforeNextField() =>
        Fails<SolverParameter>("base_lr:\nmomentum: 0.9\n", 2, 1, "expected a number for field 'base_lr' (float), found 'momentum'");

    [Fact]
    public void MissingColon() =>
        Fails<SolverParameter>("base_lr 0.01", 1, 9, "expected ':' after field name 'base_lr', found '0.01'");

    [Fact]
    public void MalformedNumber() =>
        Fails<SolverParameter>("base_lr: 1.2.3", 1, 10, "expected a number for field 'base_lr' (float), found '1.2.3'");

    [Fact]
    public void NumberWithTrailingLetters() =>
        Fails<SolverParameter>("max_iter: 12abc", 1, 11, "expected an integer for field 'max_iter' (int32), found '12abc'");

    [Fact]
    public void FloatForIntegerField() =>
        Fails<ConvolutionParameter>("num_output: 1.5", 1, 13, "expected an integer for field 'num_output' (uint32), found '1.5'");

    [Fact]
    public void NegativeForUnsignedField() =>
        Fails<ConvolutionParameter>("num_output: -1", 1, 13, "value -1 is out of range for field 'num_output' (uint32)");

    [Fact]
    public void IntegerTooLarge() =>
        Fails<ConvolutionParameter>("num_output: 4294967296", 1, 13, "value 4294967296 is out of range for field 'num_output' (uint32)");

    [Fact]
    public void Int64TooLarge() =>
        Fails<BlobShape>("dim: 99999999999999999999", 1, 6, "value 99999999999999999999 is out of range for field 'dim' (int64)");

    [Fact]
    public void BadOctal() =>
        Fails<ConvolutionParameter>("group: 09", 1, 8, "expected an integer for field 'group' (uint32), found '09'");

    [Fact]
    public void BadBool() =>
        Fails<LayerParameter>("propagate_down: yes", 1, 17, "expected true or false for field 'propagate_down' (bool), found 'yes'");

    [Fact]
    public void UnquotedString() =>
        Fails<LayerParameter>("name: conv1", 1, 7, "expected a quoted string for field 'name' (string), found 'conv1'");

    [Fact]
    public void ScalarForMessageField() =>
        Fails<LayerParameter>("name: \"d\"\ndata_param: 5", 2, 13, "expected '{' to open field 'data_param' (caffe.DataParameter), found '5'");

    [Fact]
    public void StringForMessageField() =>
        Fails<LayerParameter>("transform_param: \"scale\"", 1, 18,
            "expected '{' to open field 'transform_param' (caffe.TransformationParameter), found '\"scale\"'");

    [Fact]
    public void BlockForScalarField() =>
        Fails<LayerParameter>("name { }", 1, 6, "field 'name' holds a string, not a message; write 'name: value'");

    [Fact]
    public void ListForNonRepeatedField() =>
        Fails<LayerParameter>("name: [\"a\"]", 1, 7, "field 'name' is not repeated, so it cannot take a [list]");

    [Fact]
    public void UnclosedList() =>
        Fails<LayerParameter>("loss_weight: [1 2]", 1, 17, "expected ',' or ']' in the list for field 'loss_weight', found '2'");

    [Fact]
    public void NonRepeatedFieldTwice() =>
        Fails<NetParameter>("name: \"a\"\nname: \"b\"", 2, 1, "field 'name' is given more than once, but it is not repeated");

    [Fact]
    public void NonRepeatedMessageTwice() =>
        Fails<LayerParameter>("data_param { batch_size: 1 }\ndata_param { source: \"x\" }", 2, 1,
            "field 'data_param' is given more than once, but it is not repeated");

    [Fact]
    public void MissingRequiredField() =>
        Fails<LayerParameter>("type: \"Clip\"\nclip_param { min: 0 }", 2, 1, "required field 'max' is missing in 'clip_param' (caffe.ClipParameter)");

    [Fact]
    public void UnexpectedCharacter() =>
        Fails<NetParameter>("name: \"a\"\n@layer {}", 2, 1, "unexpected character '@'");

    [Fact]
    public void ValueWhereFieldNameBelongs() =>
        Fails<NetParameter>("\"LeNet\"", 1, 1, "expected a field name, found '\"LeNet\"'");

    [Fact]
    public void ColumnsCountTabsAsOneCharacter() =>
        Fails<NetParameter>("layer {\n\tbotom: \"x\"\n}", 2, 2, "unknown field 'botom' in caffe.LayerParameter; did you mean 'bottom'?");

    [Fact]
    public void DeepNestingIsAnErrorNotAStackOverflow()
    {
        // caffe.proto is not recursive, but the reader is generic: google.protobuf.Value nests through
        // list_value { values { ... } } without end.
        static string Nested(int blocks) =>
            string.Concat(Enumerable.Range(0, blocks).Select(i => i % 2 == 0 ? "list_value { " : "values { ")) +
            string.Concat(Enumerable.Repeat("} ", blocks));

        Assert.NotNull(Prototxt.Parse<Google.Protobuf.WellKnownTypes.Value>(Nested(100)));

        string tooDeep = Nested(101);
        int column = tooDeep.LastIndexOf('{') + 1;
        Fails<Google.Protobuf.WellKnownTypes.Value>(tooDeep, 1, column, "blocks are nested more than 100 deep");
    }

    [Fact]
    public void LongTokensAreCutInMessages()
    {
        string digits = new('9', 10_000_000);
        Fails<NetParameter>($"layer {{ inner_product_param {{ num_output: {digits} }} }}", 1, 43,
            $"value {new string('9', 40)}… (10000000 characters) is out of range for field 'num_output' (uint32)");
        Fails<NetParameter>($"name: {digits}", 1, 7, $"expected a quoted string for field 'name' (string), found '{new string('9', 40)}… (10000000 characters)'");
    }

    [Fact(Timeout = 5000)]
    public async Task AHugeUnknownFieldNameIsReportedQuickly()
    {
        string name = new('q', 1_000_000);
        var error = await Task.Run(() => Assert.Throws<PrototxtException>(() => Prototxt.Parse<NetParameter>(name + ": 1", "net.prototxt")));
        Assert.Equal($"net.prototxt:1:1: unknown field '{new string('q', 40)}… (1000000 characters)' in caffe.NetParameter", error.Message);
    }
}
