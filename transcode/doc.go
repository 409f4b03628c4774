// Package transcode serves REST/JSON routes from google.api.http annotations.
package transcode
