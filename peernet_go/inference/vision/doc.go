// Package vision turns image samples into model input tensors and model
// output tensors into compact results. It knows nothing about any
// inference runtime: a backend (such as package onnx) owns the session,
// and vision owns the pixels and the numbers around it.
//
// A [Pipeline] decodes a sample (JPEG, PNG, raw "rgb8:WxH"/"bgr8:WxH"/
// "mono8:WxH", or a CDR-serialised sensor_msgs/msg/Image or
// sensor_msgs/msg/CompressedImage, read with package cdr without copying
// the pixels), then resizes it, converts the layout (NCHW or NHWC) and
// colour order and normalises the pixels into a float32 tensor in one
// fixed-point pass over the decoded pixels, reading raw and ROS images
// where they lie. The tensor is the pipeline's own and reused on every
// call:
//
//	p, err := vision.NewPipeline(vision.Config{Width: 128, Height: 128, Layout: vision.NHWC,
//		Scale: 1.0 / 127.5, Mean: []float32{1}})
//	if err != nil { ... }
//	geom, err := p.Run(sample.Data, sample.Encoding) // p.Tensor() now holds the input
//
// # JPEG decoding
//
// In binaries built with cgo (the default where a C compiler is found),
// JPEG samples are decoded by libjpeg-turbo's TurboJPEG API (Debian:
// libturbojpeg0-dev) straight to the tensor's channel order (or to gray)
// into a buffer the pipeline keeps. When the input is at most 1/2, 1/4 or
// 1/8 of the image in both directions, the decoder shrinks by that factor
// in the DCT domain, as OpenCV's IMREAD_REDUCED_* and PIL's draft mode do,
// and the resize does the rest. Greyscale and progressive JPEGs are
// decoded this way too. Everything else falls back to the standard
// library's image/jpeg: CMYK and YCCK JPEGs, and any JPEG for which
// libjpeg-turbo reports an error or even a warning, such as corrupt or
// truncated data, so that what image/jpeg accepts is still accepted and
// what it rejects is rejected with its error. Binaries built without cgo
// (CGO_ENABLED=0) decode every JPEG with image/jpeg, at full size. Either
// way, the size in the header is checked against Config.MaxPixels before
// anything is allocated.
//
// Decoders turn output tensors into results that encode as compact JSON:
// [Classifier] (top-k labels), [SSDDecoder] (anchor-based detectors such as
// BlazeFace, with a score threshold and non-maximum suppression) and [Raw]
// (shapes, statistics and leading values). Box coordinates are normalised to
// the source image ([0,1] across its width and height), whatever the resize
// mode; [Geometry] maps them back.
//
// A Pipeline or a decoder is used by one goroutine at a time.
package vision
