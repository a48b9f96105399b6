using Suite.Contracts;

namespace LabelingBridge.Exports;

/// <summary>A rectangle in Label Studio's terms: percent (0-100) of the image, from its top-left corner.</summary>
public readonly record struct PercentBox(double X, double Y, double Width, double Height);

/// <summary>
/// Converts between the pipeline's boxes (PDF points, origin bottom-left) and Label Studio's rectangles (percent of
/// the page image, origin top-left). Page W x H points: x = Left/W*100, y = (H-Top)/H*100, width = (Right-Left)/W*100,
/// height = (Top-Bottom)/H*100. The page image is W*scale x H*scale pixels.
/// </summary>
public static class LayoutGeometry
{
    /// <summary>The rectangle of a block, clamped to the page and rounded to 4 decimals; null when it has no area.</summary>
    public static PercentBox? ToPercent(BoundingBox box, double pageWidth, double pageHeight)
    {
        ArgumentNullException.ThrowIfNull(box);
        if (pageWidth <= 0 || pageHeight <= 0)
        {
            return null;
        }

        var left = Math.Clamp(Math.Min(box.Left, box.Right), 0, pageWidth);
        var right = Math.Clamp(Math.Max(box.Left, box.Right), 0, pageWidth);
        var bottom = Math.Clamp(Math.Min(box.Bottom, box.Top), 0, pageHeight);
        var top = Math.Clamp(Math.Max(box.Bottom, box.Top), 0, pageHeight);
        if (right - left <= 0 || top - bottom <= 0)
        {
            return null;
        }

        var x = Round(left / pageWidth * 100);
        var y = Round((pageHeight - top) / pageHeight * 100);
        var width = Math.Min(Round((right - left) / pageWidth * 100), Round(100 - x));
        var height = Math.Min(Round((top - bottom) / pageHeight * 100), Round(100 - y));
        return new PercentBox(x, y, width, height);
    }

    /// <summary>The inverse: a Label Studio rectangle back to PDF points with a bottom-left origin.</summary>
    public static BoundingBox ToPoints(PercentBox box, double pageWidth, double pageHeight)
    {
        var left = box.X / 100 * pageWidth;
        var top = pageHeight - (box.Y / 100 * pageHeight);
        var right = left + (box.Width / 100 * pageWidth);
        var bottom = top - (box.Height / 100 * pageHeight);
        return new BoundingBox(Round(left), Round(bottom), Round(right), Round(top));
    }

    /// <summary>Pixels of the page image at <paramref name="scale"/> pixels per point.</summary>
    public static int Pixels(double points, double scale) => Math.Max(1, (int)Math.Round(points * scale, MidpointRounding.AwayFromZero));

    private static double Round(double value) => Math.Round(value, 4, MidpointRounding.AwayFromZero);
}
