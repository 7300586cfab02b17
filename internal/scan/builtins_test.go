package scan

// The built-in detections written as Sigma documents register themselves
// with package detect from package catalog, as in the entrawatch binary.
import _ "github.com/entrawatch/entrawatch/internal/catalog"
