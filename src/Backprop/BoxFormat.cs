namespace Backprop;

/// <summary>How four numbers describe a box (torchvision's box_convert names: "xyxy", "xywh", "cxcywh").</summary>
public enum BoxFormat
{
    /// <summary>(x1, y1, x2, y2): the top-left and bottom-right corners.</summary>
    XyXy,

    /// <summary>(x1, y1, w, h): the top-left corner, width and height.</summary>
    XyWh,

    /// <summary>(cx, cy, w, h): the centre, width and height.</summary>
    CxCyWh,
}
