package transcode

import "math"

// outputSize fits a source picture into the box of r: display aspect kept (the
// source's sample aspect ratio sarNum:sarDen applied to its width, 0 meaning
// square), never larger than the source's display size, even dimensions, square
// output pixels.
func outputSize(srcW, srcH, sarNum, sarDen int, r Resolution) (w, h int) {
	boxW, boxH := r.Box()
	dispW, dispH := float64(srcW), float64(srcH)
	if sarNum > 0 && sarDen > 0 && sarNum != sarDen {
		dispW = dispW * float64(sarNum) / float64(sarDen)
	}
	scale := math.Min(1, math.Min(float64(boxW)/dispW, float64(boxH)/dispH))
	w = evenAtMost(dispW*scale, math.Min(float64(boxW), math.Floor(dispW)))
	h = evenAtMost(dispH*scale, math.Min(float64(boxH), math.Floor(dispH)))
	return w, h
}

// evenAtMost rounds v to the nearest even integer, but not above limit (so
// rounding never upscales nor leaves the box), and not below 2.
func evenAtMost(v, limit float64) int {
	n := 2 * int(math.Round(v/2))
	for float64(n) > limit && n > 2 {
		n -= 2
	}
	if n < 2 {
		n = 2
	}
	return n
}
